"""Read OSM turn restrictions (``type=restriction`` relations) that bind a refuse lorry.

A relation names a ``from`` way, a ``via`` (one node, or one or more ways) and a ``to``
way. This module reads them from an OSM file with pyosmium and turns each into the OSM
node paths it forbids or commands: ``(before, via..., after)``, where ``before`` is the
node of the ``from`` way next to the via and ``after`` the node of the ``to`` way next to
it. :mod:`solver.network.turns` lays those paths onto the edges of a built graph.

Decisions (docs/architecture.md, "Turns"):

* The restriction a refuse lorry obeys is ``restriction:hgv`` if tagged, else
  ``restriction:goods``, else ``restriction``: in the UK a sign "except goods vehicles"
  and its mapping cover every goods vehicle, lorries included. Likewise an ``except``
  naming ``hgv`` or ``goods`` exempts the lorry. Time-conditional restrictions
  (``restriction:conditional``, ``day_on``...) are not read.
* ``no_entry`` may have several ``from`` ways and ``no_exit`` several ``to`` ways (OSM's
  rule); any other relation with several of either, or with a member missing, not a
  drivable street of the file, or not meeting at the via, is skipped with one warning
  naming the relation and why.
* A ``from`` way passing *through* the via node (OSM wants it to end there) is read
  from both sides; a ``to`` way likewise.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import osmium

from solver.osm_filter import TagRule, drive_filter

log = logging.getLogger(__name__)

#: the ``restriction`` values read; ``no_*`` forbid the path, ``only_*`` forbid every other exit.
RESTRICTION_VALUES = frozenset({"no_left_turn", "no_right_turn", "no_straight_on", "no_u_turn", "no_entry",
                                "no_exit", "only_left_turn", "only_right_turn", "only_straight_on",
                                "only_u_turn"})
#: tags giving the restriction for a lorry, the most specific first.
LORRY_RESTRICTION_KEYS = ("restriction:hgv", "restriction:goods", "restriction")
#: ``except`` values that exempt a lorry.
LORRY_EXCEPT_VALUES = frozenset({"hgv", "goods"})


@dataclass(frozen=True, slots=True)
class TurnRestriction:
    """One restriction as read: ``paths`` are OSM node id sequences ``(before, via..., after)``.

    ``restriction`` is the value binding a lorry (e.g. ``no_left_turn``); ``via_node`` is
    set for a via-node restriction, ``via_ways`` for a via-way one.
    """

    relation_id: int
    restriction: str
    from_ways: tuple[int, ...]
    to_ways: tuple[int, ...]
    via_node: int | None
    via_ways: tuple[int, ...]
    paths: tuple[tuple[int, ...], ...]

    @property
    def forbids(self) -> bool:
        """Whether the paths are forbidden (``no_*``) rather than the only way on (``only_*``)."""
        return self.restriction.startswith("no_")


@dataclass(frozen=True, slots=True)
class RestrictionsRead:
    """What :func:`read_turn_restrictions` found: the restrictions binding a lorry, the lon/lat
    (degrees) of every node on their paths, and the counts of relations read, exempt (an
    ``except`` for lorries, or no restriction value for one) and skipped (malformed)."""

    restrictions: tuple[TurnRestriction, ...]
    node_lonlat: dict[int, tuple[float, float]]
    relations: int
    exempt: int
    skipped: tuple[tuple[int, str], ...] = field(default=())


@dataclass(slots=True)
class _Relation:
    id: int
    restriction: str
    members: list[tuple[str, int, str]]


class _MalformedError(ValueError):
    """A malformed relation; the message says why."""


def read_turn_restrictions(source: Path, rules: Iterable[TagRule] | None = None) -> RestrictionsRead:
    """The turn restrictions in the OSM file ``source`` that bind a refuse lorry.

    Member ways must pass ``rules`` (default: osmnx's ``drive`` filter, as for the network).
    Malformed relations are skipped with one warning each naming the relation id.
    """
    rule_list = tuple(rules) if rules is not None else drive_filter()
    relations: list[_Relation] = []
    n_read = n_exempt = 0
    for rel in (osmium.FileProcessor(str(source), osmium.osm.RELATION)
                .with_filter(osmium.filter.TagFilter(("type", "restriction")))):
        if not isinstance(rel, osmium.osm.Relation):
            continue
        n_read += 1
        tags = {t.k: t.v for t in rel.tags}
        value = next((tags[k] for k in LORRY_RESTRICTION_KEYS if k in tags), None)
        exempt = {v.strip() for v in tags.get("except", "").split(";")} & LORRY_EXCEPT_VALUES
        if value is None or exempt:
            n_exempt += 1
            continue
        relations.append(_Relation(rel.id, value.strip(),
                                   [(m.type, m.ref, m.role) for m in rel.members]))
    wanted = {ref for r in relations for kind, ref, _ in r.members if kind == "w"}
    ways: dict[int, tuple[int, ...]] = {}
    lonlat: dict[int, tuple[float, float]] = {}
    drivable: set[int] = set()
    if wanted:
        for way in (osmium.FileProcessor(str(source), osmium.osm.NODE | osmium.osm.WAY).with_locations()
                    .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
                    .with_filter(osmium.filter.IdFilter(wanted))):
            if not isinstance(way, osmium.osm.Way):
                continue
            refs = tuple(n.ref for n in way.nodes if n.location.valid())
            for n in way.nodes:
                if n.location.valid():
                    lonlat[n.ref] = (n.location.lon, n.location.lat)
            ways[way.id] = refs
            tags = {t.k: t.v for t in way.tags}
            if all(rule.accepts(tags) for rule in rule_list):
                drivable.add(way.id)
    restrictions: list[TurnRestriction] = []
    skipped: list[tuple[int, str]] = []
    for relation in relations:
        try:
            restrictions.append(_restriction(relation, ways, drivable))
        except _MalformedError as exc:
            log.warning("skipping turn restriction relation %d: %s", relation.id, exc)
            skipped.append((relation.id, str(exc)))
    used = {n for r in restrictions for path in r.paths for n in path}
    read = RestrictionsRead(tuple(restrictions), {n: lonlat[n] for n in used}, n_read, n_exempt, tuple(skipped))
    log.info("read turn restrictions from %s: %d relations, %d for a lorry, %d exempt, %d skipped",
             source.name, n_read, len(restrictions), n_exempt, len(skipped))
    return read


def _restriction(rel: _Relation, ways: dict[int, tuple[int, ...]], drivable: set[int]) -> TurnRestriction:
    """``rel`` checked and laid out as node paths; :class:`_MalformedError` if it is malformed."""
    if rel.restriction not in RESTRICTION_VALUES:
        raise _MalformedError(f"unknown restriction value {rel.restriction!r}")
    froms = [ref for kind, ref, role in rel.members if role == "from" and kind == "w"]
    tos = [ref for kind, ref, role in rel.members if role == "to" and kind == "w"]
    via_nodes = [ref for kind, ref, role in rel.members if role == "via" and kind == "n"]
    via_ways = [ref for kind, ref, role in rel.members if role == "via" and kind == "w"]
    if not froms or not tos:
        raise _MalformedError("no 'from' way" if not froms else "no 'to' way")
    if len(froms) > 1 and rel.restriction != "no_entry":
        raise _MalformedError(f"{len(froms)} 'from' ways (only no_entry may have several)")
    if len(tos) > 1 and rel.restriction != "no_exit":
        raise _MalformedError(f"{len(tos)} 'to' ways (only no_exit may have several)")
    if len(via_nodes) + (1 if via_ways else 0) != 1 or len(via_nodes) > 1:
        raise _MalformedError("needs exactly one via node or one or more via ways")
    for ref in (*froms, *tos, *via_ways):
        if ref not in ways:
            raise _MalformedError(f"member way {ref} is not in the file")
        if ref not in drivable:
            raise _MalformedError(f"member way {ref} is not a drivable street")
    u_turn = rel.restriction.endswith("u_turn")
    paths: list[tuple[int, ...]] = []
    for from_way in froms:
        for to_way in tos:
            if via_nodes:
                via: list[tuple[int, ...]] = [(via_nodes[0],)]
                if via_nodes[0] not in ways[from_way] or via_nodes[0] not in ways[to_way]:
                    raise _MalformedError(f"via node {via_nodes[0]} is not shared by from way {from_way} and "
                                f"to way {to_way}")
            else:
                via = _via_way_paths(ways[from_way], [ways[w] for w in via_ways], ways[to_way])
                if not via:
                    raise _MalformedError(f"via ways {', '.join(map(str, via_ways))} do not lead from way {from_way} "
                                f"to way {to_way}")
            for middle in via:
                before = _next_to(ways[from_way], middle[0])
                after = _next_to(ways[to_way], middle[-1])
                # on one way, only a U-turn comes back the way it came; between two ways (a
                # dual carriageway's) any pair of neighbours is the turn
                paths += [(b, *middle, a) for b in before for a in after
                          if len(middle) > 1 or from_way != to_way or (a == b) == u_turn]
    if not paths:
        raise _MalformedError("from and to ways do not form the turn it names")
    return TurnRestriction(rel.id, rel.restriction, tuple(froms), tuple(tos),
                           via_nodes[0] if via_nodes else None, tuple(via_ways), tuple(dict.fromkeys(paths)))


def _next_to(way: Sequence[int], node: int) -> list[int]:
    """The nodes of ``way`` next to ``node`` (one at a way end, two in its middle)."""
    out = []
    for i, n in enumerate(way):
        if n == node:
            out += [way[j] for j in (i - 1, i + 1) if 0 <= j < len(way)]
    return list(dict.fromkeys(out))


def _via_way_paths(from_way: Sequence[int], via: list[tuple[int, ...]],
                   to_way: Sequence[int]) -> list[tuple[int, ...]]:
    """Node sequences along all the via ways, from a node of ``from_way`` to one of ``to_way``."""
    found: list[tuple[int, ...]] = []

    def walk(path: tuple[int, ...], left: list[tuple[int, ...]]) -> None:
        here = path[-1]
        for k, way in enumerate(left):
            rest = left[:k] + left[k + 1:]
            for i in (i for i, n in enumerate(way) if n == here):
                for run in (way[i + 1:], way[:i][::-1]):
                    if not run:
                        continue
                    if not rest:  # the last via way ends where the to way leaves it
                        stop = next((j for j, n in enumerate(run) if n in to_way), None)
                        if stop is not None:
                            found.append(path + tuple(run[:stop + 1]))
                    else:
                        walk(path + tuple(run), rest)

    for start in dict.fromkeys(n for way in via for n in way if n in from_way):
        walk((start,), via)
    return list(dict.fromkeys(found))
