"""Backups of the control plane (`make backup`, `make restore`): a restore into empty storage gives back a working
configuration. The backup goes to a blob container in Azurite; "empty storage" is the same accounts under a new
table prefix, which the app is restarted on."""

from __future__ import annotations

import gzip
import json
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import httpx
import pytest
from azure.storage.blob import ContainerClient

from dev.fakes.sandbox_ehr import SAMPLE_APPOINTMENTS, SandboxEhr
from dev.host.azurite import Azurite
from ops.__main__ import main as ops
from ops.backup import CONTROL, DATA, LEFT_OUT
from shared.core.settings import get_settings
from shared.messaging.models import OptOut
from shared.messaging.tables import OptOutRepository
from shared.runtime import get_runtime
from tests.conftest import AppHost, GraphMeetings
from tests.integration.test_scheduling import organisation, texts
from tests.integration.test_stored_rows import repositories
from tests.support.clinic import Clinic, deliver
from tests.support.hl7 import siu
from tests.support.visits import launch

OPTED_OUT = "+12175550166"


def storage_options(azurite: Azurite, prefix: str, container: str) -> list[str]:
    options = ["--storage", azurite.connection_string("connectorapp"), "--table-prefix", prefix]
    options += ["--container", container]
    return options + [
        f"--geography={g}={azurite.connection_string(f'connector{g.lower()}')}" for g in ("US", "EU", "APAC")
    ]


@contextmanager
def running_on(prefix: str, graph_meetings: GraphMeetings) -> Iterator[None]:
    """The app restarted on other tables (as on new storage accounts); back on its own afterwards, and the Graph
    stub without the subscriptions the app made meanwhile (it knew none of the session's)."""
    subscriptions = set(graph_meetings.stub.subscriptions)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TABLE_PREFIX", prefix)
        get_settings.cache_clear()
        get_runtime.cache_clear()
        get_runtime().use(meetings=graph_meetings.provider)
        try:
            yield
        finally:
            get_settings.cache_clear()
            get_runtime.cache_clear()
            for made in set(graph_meetings.stub.subscriptions) - subscriptions:
                del graph_meetings.stub.subscriptions[made]


def test_every_table_is_backed_up_or_left_out_with_a_reason() -> None:
    tables = set(repositories())
    assert set(CONTROL) | set(DATA) | set(LEFT_OUT) == tables
    assert not (set(CONTROL) | set(DATA)) & set(LEFT_OUT)
    assert {"organisations", "fhirendpoints", "certificates", "phonenumbers", "consents", "auditlog"} <= set(CONTROL)
    assert "optouts" in DATA


def test_a_restore_into_empty_storage_gives_back_a_working_configuration(
    app: AppHost,
    clinic: Clinic,
    sandbox: SandboxEhr,
    http: httpx.Client,
    azurite: Azurite,
    graph_meetings: GraphMeetings,
    capsys: pytest.CaptureFixture[str],
) -> None:
    runtime = get_runtime()
    opted_out = OptOut(
        number_hash=runtime.messaging.sms.number_hash(OPTED_OUT), sender=clinic.sender, opted_out_at=datetime.now(UTC)
    )
    runtime.platform.tables.data(organisation(clinic), OptOutRepository).upsert(opted_out)
    container = "backups" + secrets.token_hex(4)
    assert ops(["backup", *storage_options(azurite, os.environ["TABLE_PREFIX"], container)]) == 0
    said = capsys.readouterr().out
    assert "Backed up to" in said and "organisations (app): " in said and "optouts (EU): " in said
    blobs = list(
        ContainerClient.from_connection_string(azurite.connection_string("connectorapp"), container).list_blobs()
    )
    assert len(blobs) == 1 and blobs[0].name.startswith("control-plane-")
    document = json.loads(
        gzip.decompress(
            ContainerClient.from_connection_string(azurite.connection_string("connectorapp"), container)
            .download_blob(blobs[0].name)
            .readall()
        )
    )
    assert phone_free(document)

    empty = "e" + secrets.token_hex(5)
    with running_on(empty, graph_meetings):
        refused = http.get(sandbox.launch_url(SAMPLE_APPOINTMENTS[0], "patient"))
        assert refused.status_code == 403  # nothing is set up in empty storage: not an approved endpoint

        assert ops(["restore", *storage_options(azurite, empty, container)]) == 0
        assert "Restored" in capsys.readouterr().out
        assert ops(["restore", *storage_options(azurite, empty, container)]) == 2  # not over a configuration
        assert "--overwrite" in capsys.readouterr().err

        joined, _ = launch(http, sandbox, SAMPLE_APPOINTMENTS[0], "patient")  # a launch works
        assert joined.status_code == 302 and "anon=true" in joined.headers["Location"]
        deliver(app, clinic, siu("S12", clinic.start, control="RESTORED1"))  # and a text
        assert texts(clinic) == [("scheduled", "sent")]
        restored = get_runtime().platform.tables.data(organisation(clinic), OptOutRepository)
        assert restored.find(clinic.sender, opted_out.number_hash) == opted_out  # and a STOP still holds


def phone_free(document: dict[str, object]) -> bool:
    """A backup holds no patient's number: opt-outs are hashes, and appointments are left out."""
    return OPTED_OUT not in json.dumps(document) and "+12175550123" not in json.dumps(document)
