"""How the sandbox EHR behaves: one profile per family of real EHR behaviour the connector must meet. A new
variation is one entry here plus a row in the tests that run across `PROFILES`.

Each field is a behaviour the SMART App Launch 2.x, OpenID Connect and OAuth specifications allow an EHR to
choose, or an error it may give:
- `discovery`: where the SMART configuration is found: `both` (.well-known/smart-configuration and /metadata),
  `well-known` only, `metadata` only (the CapabilityStatement's oauth-uris extension, as Epic before 2021), or
  `disagree` (both, naming different endpoints: the metadata's are retired ones that fail; well-known wins).
- `id_token_alg`, `send_kid`, `describe_keys`, `x5c_only`: how id_tokens are signed and the key published (the
  JWK's `use` and `alg` are optional, `kid` is needed only with several keys, `x5c` may be the only material).
- `issuer_slash`: the issuer stated with a trailing slash (and the id_tokens' `iss` exactly so).
- `withheld_scopes`: scopes the EHR grants fewer of than asked (the token response's `scope` says which).
- `id_token`: whether an id_token comes with `openid`; `fhir_user_in_token`: the user's `fhirUser` returned as a
  token-response parameter instead.
- `patient_context`: whether `patient` and `encounter` come with the token; `epic_context`: Epic's
  token-response parameters (CSN, conference ID, department, and the launch record: `launchRecord`).
- `authorize_error`: every authorize answers this (error, error_description) instead of a code.
- `authorize_post`: advertises `authorize-post`; `refuse_get`: and refuses a GET authorize.
- `confidential`: the client must authenticate with a private_key_jwt assertion (client-confidential-asymmetric).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Discovery = Literal["both", "well-known", "metadata", "disagree"]


@dataclass(frozen=True)
class EhrProfile:
    name: str
    summary: str
    discovery: Discovery = "both"
    id_token_alg: str = "RS256"
    send_kid: bool = True
    describe_keys: bool = True
    x5c_only: bool = False
    issuer_slash: bool = False
    withheld_scopes: frozenset[str] = frozenset()
    id_token: bool = True
    fhir_user_in_token: bool = False
    patient_context: bool = True
    epic_context: bool = True
    authorize_error: tuple[str, str] | None = None
    authorize_post: bool = False
    refuse_get: bool = False
    confidential: bool = False

    @property
    def vouches_for_clinicians(self) -> bool:
        """Whether a launch says who the user is (a typed fhirUser), or which launch record it came from (Epic's
        token-response parameters): where it says neither, no launch starts as a clinician."""
        granted = {"openid", "fhirUser", "launch"} - self.withheld_scopes
        typed = "fhirUser" in granted and (self.fhir_user_in_token or ("openid" in granted and self.id_token))
        return typed or (self.epic_context and "launch" in granted)


_PROFILES = (
    EhrProfile(
        "epic",
        "Epic: discovery at both places, RS256 id_tokens with kid, the FDI record's token-response parameters.",
    ),
    EhrProfile(
        "oracle",
        "Oracle Health style: well-known discovery only, the visit named by SMART context only (fhirContext "
        "Appointment, encounter), keys without use or alg.",
        discovery="well-known",
        epic_context=False,
        describe_keys=False,
    ),
    EhrProfile(
        "strict",
        "By the letter, asking the most: ES256 id_tokens, authorize by POST only (authorize-post), a confidential "
        "asymmetric client (private_key_jwt) required.",
        id_token_alg="ES256",
        authorize_post=True,
        refuse_get=True,
        confidential=True,
    ),
    EhrProfile(
        "quirky",
        "Everything optional left out: metadata-only discovery, no kid, keys without use or alg, RS512, the issuer "
        "with a trailing slash, fhirUser not granted, no patient or encounter, no Epic parameters.",
        discovery="metadata",
        id_token_alg="RS512",
        send_kid=False,
        describe_keys=False,
        issuer_slash=True,
        withheld_scopes=frozenset({"fhirUser"}),
        patient_context=False,
        epic_context=False,
    ),
    EhrProfile(
        "es384-x5c",
        "ES384 id_tokens, the key published only as an X.509 certificate.",
        id_token_alg="ES384",
        x5c_only=True,
        send_kid=False,
    ),
    EhrProfile("rs384", "RS384 id_tokens.", id_token_alg="RS384"),
    EhrProfile(
        "disagreeing", "Well-known and metadata name different endpoints; the metadata's fail.", discovery="disagree"
    ),
    EhrProfile(
        "no-id-token",
        "No id_token (openid not granted); the user's fhirUser comes as a token-response parameter.",
        withheld_scopes=frozenset({"openid"}),
        fhir_user_in_token=True,
    ),
)
PROFILES: dict[str, EhrProfile] = {profile.name: profile for profile in _PROFILES}
"""Every profile a visit can start with (the launch, approval and writeback tests run across all of them)."""

FAILING_PROFILES: dict[str, EhrProfile] = {
    profile.name: profile
    for profile in (
        EhrProfile(
            "denies",
            "Every authorize answers access_denied, with a reason.",
            authorize_error=("access_denied", "The user declined to share their record"),
        ),
        EhrProfile(
            "unauthorized-client",
            "Every authorize answers unauthorized_client.",
            authorize_error=("unauthorized_client", "Client is not enabled for this environment"),
        ),
        EhrProfile(
            "no-context",
            "Neither launch nor fhirUser granted, so no context and no user.",
            withheld_scopes=frozenset({"launch", "fhirUser", "openid"}),
        ),
    )
}
"""Profiles a visit cannot start with: each must end on a page that says why."""
