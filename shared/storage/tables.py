"""One repository per table. Control-plane tables live in the app's account; data-plane tables in the
organisation's geography (see dataplane.py)."""

from __future__ import annotations

from shared.models.ehr_user import EhrUser
from shared.models.organisation import Organisation
from shared.storage.repository import TableRepository


class OrganisationRepository(TableRepository[Organisation]):
    table_name = "organisations"
    model = Organisation

    def keys(self, item: Organisation) -> tuple[str, str]:
        return item.tenant_id, "organisation"


class EhrUserRepository(TableRepository[EhrUser]):
    table_name = "ehrusers"
    model = EhrUser

    def keys(self, item: EhrUser) -> tuple[str, str]:
        return item.endpoint_id, item.ehr_user_id
