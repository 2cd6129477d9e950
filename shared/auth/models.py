"""How the admin portal signs people in, and who the caller is."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

SignInMethod = Literal["entra", "local"]


class SignInConfig(BaseModel):
    """What the portal SPA needs to get a token for the API, without being built per deployment."""

    method: SignInMethod = Field(description="entra (MSAL), or local: the dev host's issuer (local runs only).")
    environment: str
    local_issuer: str | None = Field(description="The local issuer's URL (method local).")
    authority: str | None = Field(description="The Entra ID authority MSAL signs in with (method entra).")
    client_id: str | None = Field(description="The portal's Entra ID client ID (method entra).")
    scopes: list[str] = Field(description="The scopes to ask for: the portal API's.")


class Caller(BaseModel):
    tenant_id: str
    user_id: str
    username: str
    roles: list[str] = Field(description="Connector.Admin, Connector.Approver, or both.")
