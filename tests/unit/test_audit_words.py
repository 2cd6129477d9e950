"""Every action the audit log records reads as words (issue 32 item 5): the code is read for each audit call's
entity and action, so a new one without its words fails here."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import get_args

from shared.setup.audit_models import AuditAction, AuditEntryPublic
from shared.setup.audit_words import _WORDS, describe

ROOT = Path(__file__).resolve().parents[2]
CALL = re.compile(r"audit\.(?:by|record)\((?P<args>.*?)\n\s*\)", re.S)
ACTIONS = re.compile(r'action=(?:"(\w+)"(?: if .*? else "(\w+)")?|action)')
ENTITY = re.compile(r'entity="(\w+)"')


def _recorded() -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for path in (ROOT / "shared").rglob("*.py"):
        text = path.read_text()
        for call in CALL.finditer(text):
            entity = ENTITY.search(call["args"])
            action = ACTIONS.search(call["args"])
            assert entity and action, f"{path}: an audit call without a literal entity and action"
            actions = [a for a in action.groups() if a]
            if not actions:  # passed through, as endpoints.py's _audit_change does: its callers name them
                actions = re.findall(r'_audit_change\(principal, "(\w+)"', text)
            found |= {(entity[1], a) for a in actions}
    return found


def test_every_recorded_action_has_words() -> None:
    recorded = _recorded()
    assert len(recorded) > 15
    missing = {pair for pair in recorded if pair not in _WORDS and pair[0] != "sms_consent"}
    assert not missing, f"give these words in shared/setup/audit_words.py: {missing}"
    assert {action for _, action in recorded} <= set(get_args(AuditAction))


def _entry(**fields: object) -> AuditEntryPublic:
    base = {"id": "1", "at": datetime(2026, 1, 5, tzinfo=UTC), "user_id": "u", "fields": []}
    return AuditEntryPublic.model_validate({**base, **fields})


def test_words_name_the_subject_or_fall_back() -> None:
    approved = _entry(
        action="approve", entity="fhir_endpoint", entity_id="e1", subject="https://fhir.example/R4", environment="prod"
    )
    assert describe(approved, {}) == "approved https://fhir.example/R4 for production"
    legacy = _entry(action="approve", entity="fhir_endpoint", entity_id="e1")
    assert describe(legacy, {}) == "approved FHIR endpoint e1 for its environment"
    assert describe(_entry(action="consent", entity="sms_consent", entity_id="sms_terms"), {}) == (
        "accepted the SMS terms"
    )
    assert describe(_entry(action="upload", entity="certificate", entity_id="prod"), {}) == (
        "uploaded the HL7 signing certificate for production"
    )
    assert describe(_entry(action="zap", entity="thing_one", entity_id="9"), {}) == "zap thing one 9"
