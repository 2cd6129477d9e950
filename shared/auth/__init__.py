"""Portal authentication: Entra ID access tokens (or the dev host's local issuer), roles, organisation scope."""
