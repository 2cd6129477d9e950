"""The app's settings, one group per concern, read from the environment (app settings in Azure; the dev host
loads local.settings.json Values into the environment, as the Functions host does).

Required settings have no default: a missing one fails at start with its name. Each group checks its own
rules; `load_settings` reads them all and reports every problem in one sentence each.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import lru_cache
from typing import get_type_hints

from pydantic import ValidationError

from shared.core.geography import Geography
from shared.core.settings.base import Environment, SettingsGroup
from shared.core.settings.groups import (
    DeploymentSettings,
    EhrSettings,
    MessagingSettings,
    SchedulingSettings,
    SecretSettings,
    SignInSettings,
    VisitSettings,
)
from shared.core.settings.storage import StorageSettings
from shared.core.startup import settings_error

__all__ = [
    "DeploymentSettings",
    "EhrSettings",
    "Environment",
    "Geography",
    "MessagingSettings",
    "SchedulingSettings",
    "SecretSettings",
    "Settings",
    "SignInSettings",
    "StorageSettings",
    "VisitSettings",
    "get_settings",
    "load_settings",
]


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Every group of settings, validated."""

    deployment: DeploymentSettings
    storage: StorageSettings
    sign_in: SignInSettings
    ehr: EhrSettings
    visits: VisitSettings
    messaging: MessagingSettings
    scheduling: SchedulingSettings
    secrets: SecretSettings

    @classmethod
    def groups(cls) -> dict[str, type[SettingsGroup]]:
        """Each field's group class, read off the fields themselves."""
        hints = get_type_hints(cls)
        return {field.name: hints[field.name] for field in fields(cls)}

    @classmethod
    def names(cls) -> set[str]:
        """Every app setting the connector reads."""
        return set().union(*(group.names() for group in cls.groups().values()))

    @property
    def environment(self) -> Environment:
        return self.deployment.environment

    @property
    def public_base(self) -> str:
        return self.deployment.public_base

    @property
    def portal_base(self) -> str:
        return self.deployment.portal_base


def _problems(error: ValidationError) -> list[str]:
    problems = []
    for item in error.errors():
        name = ".".join(str(part) for part in item["loc"]) or "settings"
        if item["type"] == "missing":
            problems.append(f"Missing required setting {name}")
        elif item["type"] == "value_error":
            problems.append(str(item["msg"]).removeprefix("Value error, "))
        else:
            problems.append(f"Invalid setting {name}: {item['msg']}")
    return problems


def load_settings() -> Settings:
    """Read and validate every group, turning pydantic's reports into one sentence per problem."""
    groups: dict[str, SettingsGroup] = {}
    problems: list[str] = []
    for name, group in Settings.groups().items():
        try:
            groups[name] = group()  # read from the environment
        except ValidationError as exc:
            problems += [problem for problem in _problems(exc) if problem not in problems]
    if problems:
        raise settings_error(problems)
    return Settings(**groups)  # type: ignore[arg-type]  # each name holds its own group


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
