"""Print the configuration table (markdown) from :class:`app.core.config.Settings`, so the docs stay true.

Usage::

    python scripts/settings_table.py                 # print the table
    python scripts/settings_table.py --write README.md   # replace the table between the markers
    python scripts/settings_table.py --check README.md   # exit 1 if the file's table is out of date

One row per setting: the environment variable (``WASTEROUTE_`` + the field name in
capitals), its description, and its default. A default computed at start-up is
taken from the description's ``(default: ...)`` when it states one, and a path
inside the repository (the embedded network) is shown relative to it. In a file, the
table sits between the lines :data:`START` and :data:`END`.
"""

from __future__ import annotations

import argparse
import re
import sys
import typing
from pathlib import Path

from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from app.core.config import Settings

ROOT = Path(__file__).resolve().parent.parent
START = "<!-- settings-table:start (scripts/settings_table.py --write) -->"
END = "<!-- settings-table:end -->"
_STATED_DEFAULT = re.compile(r"\s*\(default: (?P<text>[^)]*)\)")


def _variable(name: str) -> str:
    """The environment variable of field ``name``."""
    prefix = str(Settings.model_config.get("env_prefix", ""))
    return f"{prefix}{name}".upper()


def _cell(text: str) -> str:
    """Text safe inside a markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def _default(field: FieldInfo) -> str:
    """The default as a person reads it."""
    stated = _STATED_DEFAULT.search(field.description or "")
    if stated:
        return stated["text"]
    if field.default is None:
        return "unset"
    if field.default is not PydanticUndefined:
        return f"`{field.default}`"
    factory = field.default_factory
    if factory is not None and not field.default_factory_takes_validated_data:
        value = factory()  # type: ignore[call-arg]
        if isinstance(value, Path) and value.is_relative_to(ROOT):
            return f"`{value.relative_to(ROOT).as_posix()}` (embedded)"
        return f"`{value}`"
    return "computed at start-up"


def _meaning(field: FieldInfo) -> str:
    """The description without its stated default, with the allowed values of a choice."""
    text = _STATED_DEFAULT.sub("", field.description or "").strip()
    if typing.get_origin(field.annotation) is typing.Literal:
        text += " One of " + ", ".join(f"`{v}`" for v in typing.get_args(field.annotation)) + "."
    return text


def settings_table() -> str:
    """The markdown table of every setting, in the order Settings declares them."""
    lines = ["| variable | meaning | default |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        lines.append(f"| `{_variable(name)}` | {_cell(_meaning(field))} | {_cell(_default(field))} |")
    return "\n".join(lines) + "\n"


def with_table(text: str, table: str) -> str:
    """``text`` with the part between :data:`START` and :data:`END` replaced by ``table``."""
    if START not in text or END not in text:
        raise ValueError(f"the markers {START!r} and {END!r} are not both in the file")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{table}{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    """Print, write or check the table; the exit status is 1 when a checked file is out of date."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--write", type=Path, metavar="FILE", help="replace the table between the markers in FILE")
    group.add_argument("--check", type=Path, metavar="FILE", help="exit 1 if FILE's table differs from Settings")
    args = parser.parse_args(argv)
    table = settings_table()
    if args.write is None and args.check is None:
        sys.stdout.write(table)
        return 0
    path: Path = args.write or args.check
    text = path.read_text(encoding="utf-8")
    updated = with_table(text, table)
    if args.write is not None:
        path.write_text(updated, encoding="utf-8")
        return 0
    if updated != text:
        print(f"{path}: the configuration table differs from app.core.config.Settings; "
              f"run python scripts/settings_table.py --write {path}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
