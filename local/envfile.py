"""A small `.env` reader: KEY=VALUE lines, comments, optional quotes and `export`. Real environment wins."""

from __future__ import annotations

import os
import re
from collections.abc import MutableMapping
from pathlib import Path

_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$")


def parse_env_text(text: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _LINE.match(line)
        if not match:
            continue
        key, value = match.group(1), match.group(2)
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            quote, value = value[0], value[1:-1]
            if quote == '"':
                value = value.replace("\\n", "\n").replace('\\"', '"').replace("\\\\", "\\")
        else:
            # An unquoted value ends at an inline comment (" #").
            value = re.split(r"\s+#", value, maxsplit=1)[0].strip()
        values[key] = value
    return values


def load_env_file(path: Path, environ: MutableMapping[str, str] | None = None) -> list[str]:
    """Set the file's variables that the environment does not already have; returns the names set."""
    env = os.environ if environ is None else environ
    if not path.is_file():
        return []
    applied = []
    for key, value in parse_env_text(path.read_text(encoding="utf-8")).items():
        if key not in env:
            env[key] = value
            applied.append(key)
    return applied
