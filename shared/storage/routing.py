"""Which account a table lives in: control-plane tables in the app's account, data-plane tables in the account
of the organisation's geography. Every table name carries the deployment's prefix."""

from __future__ import annotations

from typing import Any, Protocol, TypeVar

from shared.core.settings import Geography
from shared.storage.accounts import StorageAccounts
from shared.storage.repository import TableRepository

R = TypeVar("R", bound=TableRepository[Any])


class Located(Protocol):
    """Anything that says where its data lives (an organisation)."""

    @property
    def geography(self) -> Geography: ...


class Tables:
    def __init__(self, accounts: StorageAccounts, prefix: str = "") -> None:
        self._accounts = accounts
        self._prefix = prefix

    def control(self, repository: type[R]) -> R:
        """A control-plane repository (organisations, endpoints, certificates, audit log, ...)."""
        return repository(self._accounts.app.table(self._prefix + repository.table_name))

    def data(self, organisation: Located, repository: type[R]) -> R:
        """A data-plane repository in the organisation's geography (EHR users, appointments, visits, ...)."""
        return self.in_geography(organisation.geography, repository)

    def in_geography(self, geography: Geography, repository: type[R]) -> R:
        account = self._accounts.for_geography(geography)
        return repository(account.table(self._prefix + repository.table_name))
