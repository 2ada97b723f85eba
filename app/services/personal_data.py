"""Assisted-collection details shown only to the roles that need them: one function decides.

A bin may say its collection is *assisted* (the crew fetches the bin from the property because the
resident cannot bring it out). The flag alone is what a crew needs; the reason behind it (a disability,
an illness, a named carer, a phone number) is health and contact detail, special category personal data
(UK GDPR Article 9) that planners, approvers and admins handle and nobody else sees (docs/privacy.md).

:func:`redact_for` is that decision: a principal holding :data:`DETAIL_ROLES` gets a document as stored;
anyone else (a viewer: a crew's tablet, a supervisor reading plans) gets each bin's assisted flag as a
plain yes/no and none of its free-text or health or contact attributes. Round books and exports never
carry those attributes at all (they print "Assisted" and the house number), so only documents that hold
bins as posted (a plan's problem, an upload's answer) go through here.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Final, Protocol

from app.core.json_types import JSONObject, JSONValue
from app.services.addresses import ATTRIBUTE_HOLDERS, bin_details

DETAIL_ROLES: Final = frozenset({"planner", "approver", "admin"})
"""Roles that see assisted-collection details: those who plan, approve and administer rounds (names of
:data:`app.api.principal.ROLES`, which this layer may not import; a test keeps them the same)."""
FLAG_NAMES: Final = frozenset({"assisted", "assisted_collection", "assisted_lift", "assisted_lifts"})
"""Attributes that are the assisted flag itself: kept, as ``true``/``false``."""
FREE_TEXT_NAMES: Final = frozenset({"notes", "note", "comment", "comments", "details", "instructions", "reason",
                                    "remarks", "description"})
"""Attributes of free text: a person types health detail into them as readily as a gate code."""
DETAIL_WORDS: Final = ("assist", "medical", "health", "disab", "mobility", "condition", "illness", "carer",
                       "care_", "vulnerab", "phone", "email", "contact", "resident", "occupant", "reason", "note")
"""Parts of an attribute's name that mark it as health or contact detail (matched case-insensitively)."""
REDACTED_MARK: Final = "redacted_attributes"
"""Set on a bin that lost attributes: how many, so a reader knows something is held back (never which)."""


class Reader(Protocol):
    """Whoever a document is served to: :class:`app.api.principal.Principal` is one."""

    @property
    def roles(self) -> frozenset[str]:
        """The roles the reader holds."""
        ...


def sees_assisted_detail(principal: Reader) -> bool:
    """Whether ``principal`` may read assisted-collection details (holds one of :data:`DETAIL_ROLES`)."""
    return not DETAIL_ROLES.isdisjoint(principal.roles)


def is_detail(name: str) -> bool:
    """Whether an attribute called ``name`` is health, contact or free-text detail (not the flag itself)."""
    folded = name.strip().casefold()
    if folded in FLAG_NAMES:
        return False
    return folded in FREE_TEXT_NAMES or any(word in folded for word in DETAIL_WORDS)


def redact_bin(bin_body: Mapping[str, JSONValue]) -> JSONObject:
    """A copy of one bin without its detail attributes, its assisted flag as a yes/no (as the round book
    reads it), and :data:`REDACTED_MARK` counting what was taken out."""
    assisted = bin_details(bin_body).assisted
    shown: JSONObject = {}
    removed = 0
    for key, value in bin_body.items():
        if key in ATTRIBUTE_HOLDERS and isinstance(value, dict):
            kept: JSONObject = {}
            for name, attribute in value.items():
                if is_detail(name):
                    removed += 1
                else:
                    kept[name] = assisted if name.strip().casefold() in FLAG_NAMES else attribute
            shown[key] = kept
        elif key != "id" and is_detail(key):
            removed += 1
        else:
            shown[key] = assisted if key.strip().casefold() in FLAG_NAMES else copy.deepcopy(value)
    if removed:
        shown[REDACTED_MARK] = removed
    return shown


def redact_for(principal: Reader, document: JSONObject) -> JSONObject:
    """``document`` (a problem body, or any JSON holding ``bins`` lists) as ``principal`` may see it: as is
    for :data:`DETAIL_ROLES`, else with every bin in a ``bins`` list through :func:`redact_bin`."""
    if sees_assisted_detail(principal):
        return document
    redacted = _redact(document)
    return redacted if isinstance(redacted, dict) else document


def _redact(value: JSONValue) -> JSONValue:
    """``value`` with each ``bins`` list's bins redacted, at any depth."""
    if isinstance(value, list):
        return [_redact(item) for item in value]
    if not isinstance(value, dict):
        return value
    out: JSONObject = {}
    for key, item in value.items():
        if key == "bins" and isinstance(item, list):
            out[key] = [redact_bin(b) if isinstance(b, dict) else b for b in item]
        else:
            out[key] = _redact(item)
    return out
