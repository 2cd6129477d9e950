"""Clinicians' delegated Microsoft Graph grants: one refresh token per linked clinician who signed in through an
endpoint that gives patients Virtual Appointment links, kept in the secret store (Key Vault in Azure) and nowhere
else, under a name that hides whose it is (`va-grant-` and a hash of the tenant and the clinician's object ID).

Key Vault keeps deleted secrets for its retention period and refuses a new secret of the same name meanwhile, so a
grant that is forgotten is overwritten with a tombstone rather than deleted."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from shared.core.errors import NotFound
from shared.secrets import SecretStore

PREFIX = "va-grant-"
FORGOTTEN = "forgotten"


def grant_name(tenant_id: str, organizer_id: str) -> str:
    digest = hashlib.sha256(f"{tenant_id.lower()}:{organizer_id.lower()}".encode()).hexdigest()
    return PREFIX + digest[:48]


@dataclass(kw_only=True, eq=False)
class DelegatedGrants:
    secrets: SecretStore

    def get(self, tenant_id: str, organizer_id: str) -> str | None:
        try:
            value = self.secrets.get(grant_name(tenant_id, organizer_id))
        except NotFound:
            return None
        return None if value == FORGOTTEN else value

    def keep(self, tenant_id: str, organizer_id: str, refresh_token: str) -> None:
        self.secrets.set(grant_name(tenant_id, organizer_id), refresh_token)

    def forget(self, tenant_id: str, organizer_id: str) -> None:
        """The grant is gone (revoked, or the clinician unlinked): the next sign-in asks for a new one."""
        if self.get(tenant_id, organizer_id) is not None:
            self.secrets.set(grant_name(tenant_id, organizer_id), FORGOTTEN)
