"""SMART on FHIR: discovery, PKCE, authorize and token requests, id_token validation."""
