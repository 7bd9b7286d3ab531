"""Derive the compact Bot API spec used by the fake Telegram server (bot/fakeapi).

Usage: python scripts/make_botapi_spec.py [path/to/api.json]

Reads the official machine-readable spec (default ../shared/telegram-bot-api/api.json,
relative to the repo root) and writes bot/fakeapi/botapi_spec.json with, for every method
and type, each parameter/field -> {"types", "required"} plus the length limits and the
constant discriminator values ("always X" / "must be X") found in the descriptions.
The output is checked in so that the tests never read ../shared at run time.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = REPO_ROOT.parent / "shared" / "telegram-bot-api" / "api.json"
OUTPUT = REPO_ROOT / "bot" / "fakeapi" / "botapi_spec.json"

LIMIT_RE = re.compile(r"(\d+)-(\d+) (characters|bytes)")
# Discriminator values of abstract types' subtypes, e.g. 'Scope type, must be chat'.
CONST_RE = re.compile(r'(?:always|must be) "?([A-Za-z0-9_]+)"?\s*$')


def compact_field(field: dict[str, Any]) -> dict[str, Any]:
    """Keep only what validation needs: types, required, limits, constant value."""
    out: dict[str, Any] = {"types": field["types"], "required": field["required"]}
    description = field.get("description", "")
    limit = LIMIT_RE.search(description)
    if limit:
        out["min"], out["max"], out["unit"] = int(limit[1]), int(limit[2]), limit[3]
    const = CONST_RE.search(description)
    if const and field["types"] == ["String"]:
        out["const"] = const[1]
    return out


def compact(api: dict[str, Any]) -> dict[str, Any]:
    methods = {
        name: {
            "params": {f["name"]: compact_field(f) for f in method.get("fields", [])},
            "returns": method.get("returns", []),
        }
        for name, method in api["methods"].items()
    }
    types: dict[str, Any] = {}
    for name, type_ in api["types"].items():
        if "subtypes" in type_:
            types[name] = {"subtypes": type_["subtypes"]}
        else:
            types[name] = {"fields": {f["name"]: compact_field(f) for f in type_.get("fields", [])}}
    return {
        "source": (
            "Derived from the official Telegram Bot API spec (api.json, version "
            f"{api['version']}, MIT licence) by scripts/make_botapi_spec.py"
        ),
        "version": api["version"],
        "methods": methods,
        "types": types,
    }


def dump(spec: dict[str, Any]) -> str:
    """One method/type per line: compact, yet diffs stay readable when the spec changes."""

    def section(entries: dict[str, Any]) -> str:
        lines = [
            f"  {json.dumps(k)}: {json.dumps(v, ensure_ascii=False, separators=(',', ':'))}"
            for k, v in sorted(entries.items())
        ]
        return "{\n" + ",\n".join(lines) + "\n }"

    return (
        "{\n"
        f' "source": {json.dumps(spec["source"])},\n'
        f' "version": {json.dumps(spec["version"])},\n'
        f' "methods": {section(spec["methods"])},\n'
        f' "types": {section(spec["types"])}\n'
        "}\n"
    )


def main(argv: list[str]) -> int:
    source = Path(argv[1]) if len(argv) > 1 else DEFAULT_SOURCE
    api = json.loads(source.read_text(encoding="utf-8"))
    spec = compact(api)
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(dump(spec), encoding="utf-8")
    print(
        f"wrote {OUTPUT.relative_to(REPO_ROOT)}: {len(spec['methods'])} methods, "
        f"{len(spec['types'])} types ({spec['version']})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
