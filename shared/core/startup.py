"""What the app checks while the Functions host indexes it, without the settings models (whose import would slow
every cold start): that each required setting is present. Their values, and every other setting, are validated
when a function first runs (shared.core.settings), and a bad one fails that run naming the setting."""

from __future__ import annotations

import os
from collections.abc import Mapping

from shared.core.errors import ConfigurationError
from shared.core.geography import Geography, data_storage_setting

REQUIRED = (
    "ENVIRONMENT",
    "PUBLIC_BASE_URL",
    "PORTAL_API_AUDIENCE",
    "MEETING_PROVIDER",
    "SMS_PROVIDER",
    "SECRETS_PROVIDER",
)
"""The settings without a default (a unit test holds this to the settings models)."""
APP_STORAGE = ("AzureWebJobsStorage__accountName", "AzureWebJobsStorage")
NO_APP_STORAGE = "Missing required setting AzureWebJobsStorage__accountName (or AzureWebJobsStorage for Azurite)"
NO_DATA_STORAGE = "Set at least one of " + ", ".join(data_storage_setting(g) for g in Geography)


def missing_settings(environ: Mapping[str, str]) -> list[str]:
    """One sentence per missing setting, in the words of the full validation."""
    present = {name for name, value in environ.items() if value.strip()}
    problems = [f"Missing required setting {name}" for name in REQUIRED if name not in present]
    if not present & set(APP_STORAGE):
        problems.append(NO_APP_STORAGE)
    if not present & {data_storage_setting(g) for g in Geography}:
        problems.append(NO_DATA_STORAGE)
    return problems


def check_required_settings(environ: Mapping[str, str] | None = None) -> None:
    """Raise naming every missing setting, as the app starts."""
    problems = missing_settings(os.environ if environ is None else environ)
    if problems:
        raise settings_error(problems)


def settings_error(problems: list[str]) -> ConfigurationError:
    """The error that names every problem with the settings, one sentence each."""
    return ConfigurationError(
        "; ".join(problems) + ". Set it in the app settings (local.settings.json when running locally)."
    )
