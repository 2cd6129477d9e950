"""What every group of settings shares: read from the environment (app settings in Azure; the dev host loads
local.settings.json Values into the environment, as the Functions host does), and the deployment's environment,
which several groups' rules depend on."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

Environment = Literal["local", "test", "prod"]


class SettingsGroup(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False, populate_by_name=False)

    environment: Environment = Field(alias="ENVIRONMENT", description="local, test or prod.")

    @classmethod
    def names(cls) -> set[str]:
        """The environment variables this group reads."""
        return {field.alias or name for name, field in cls.model_fields.items()}


def blank_is_none(value: str | None) -> str | None:
    """An empty app setting means "not set"."""
    return value.strip() or None if isinstance(value, str) else value
