"""Where an organisation's data lives, and which geographies a deployment enables: light enough to read while the
Functions host indexes the app (one queue trigger per enabled geography), before any setting is validated."""

from __future__ import annotations

import os
from collections.abc import Mapping
from enum import StrEnum


class Geography(StrEnum):
    """Where an organisation's data lives; each has its own storage account."""

    US = "US"
    EU = "EU"
    APAC = "APAC"


def data_storage_setting(geography: Geography) -> str:
    """The app setting naming a geography's storage account (`DATA_STORAGE_EU`)."""
    return f"DATA_STORAGE_{geography.value}"


def configured_geographies(environ: Mapping[str, str] | None = None) -> list[Geography]:
    """The geographies whose storage setting is set (validated later, with every other setting)."""
    environ = os.environ if environ is None else environ
    return [g for g in Geography if environ.get(data_storage_setting(g), "").strip()]
