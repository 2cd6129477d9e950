"""Secrets from environment variables, for local development: secret `join-link-key` is `SECRET_JOIN_LINK_KEY`."""

from __future__ import annotations

from collections.abc import MutableMapping

from shared.core.errors import NotFound
from shared.core.usage import usage
from shared.secrets import check_secret_name


def env_name(secret_name: str) -> str:
    return "SECRET_" + check_secret_name(secret_name).upper().replace("-", "_")


class EnvSecretStore:
    def __init__(self, environ: MutableMapping[str, str]) -> None:
        self._environ = environ

    def get(self, name: str) -> str:
        usage.record("secrets", "get")  # what a Key Vault read past the cache would be
        value = self._environ.get(env_name(name))
        if not value:
            raise NotFound(f"Secret {name} is not set; define {env_name(name)} in local.settings.json.")
        return value

    def set(self, name: str, value: str) -> None:
        usage.record("secrets", "set")
        self._environ[env_name(name)] = value
