"""FHIR references as SMART names users by (`fhirUser`): what kind of resource one names. No heavy imports: the
visit session check uses it on every request of the visit panel."""

from __future__ import annotations


def resource_type(reference: object) -> str | None:
    """The resource type of a FHIR reference, relative (`Practitioner/123`) or absolute (`https://.../Patient/9`);
    None for anything else (a bare user ID says nothing about who the user is)."""
    if not isinstance(reference, str):
        return None
    parts = reference.split("?", 1)[0].split("#", 1)[0].rstrip("/").split("/")
    if len(parts) < 2 or not parts[-1]:
        return None
    if len(parts) >= 4 and parts[-2] == "_history":  # a versioned reference: Type/id/_history/vid
        parts = parts[:-2]
    kind = parts[-2]
    return kind if kind[:1].isupper() and kind.isalpha() else None
