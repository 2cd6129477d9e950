"""local.settings.json, as the Functions host reads it: its `Values` become environment variables, except
where the environment already sets them."""

from __future__ import annotations

import json
from collections.abc import MutableMapping
from pathlib import Path


def load_values(path: Path) -> dict[str, str]:
    data = json.loads(path.read_text())
    values = data.get("Values", {})
    if not isinstance(values, dict):
        raise ValueError(f"{path}: Values must be an object of strings")
    return {str(k): "" if v is None else str(v) for k, v in values.items()}


def apply_values(values: dict[str, str], environ: MutableMapping[str, str]) -> None:
    for key, value in values.items():
        if not environ.get(key):
            environ[key] = value
