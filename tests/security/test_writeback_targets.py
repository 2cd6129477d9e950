"""Where visit events are written: once an admin moves an endpoint to another FHIR base URL, no event goes to the
old URL (it is not the approved server any more), and after the new URL's approval events go there, at once, not
after the worker's cache of writeback targets runs out."""

from __future__ import annotations

from collections.abc import Callable

from tests.conftest import AppHost, serve_ehr
from tests.support.portal import ehr_sign_in
from tests.support.writeback import BACKEND_CLIENT, PATIENT, Visit, clinician, roster


def test_a_moved_endpoint_gets_no_writeback_at_its_old_url(start_visit: Callable[[str], Visit], app: AppHost) -> None:
    visit = start_visit("epic")
    tenant, old = visit.tenant, visit.ehr
    visit.notify(roster(1, joined=[clinician(tenant)]))
    app.pump()
    written = len(old.writebacks.recorded)
    assert written >= 1  # writeback works, and its target is now cached

    with serve_ehr(app.server.url) as new:
        new.register_backend_client(BACKEND_CLIENT, f"{app.server.url}/api/.well-known/jwks/{tenant.id}")
        moved = tenant.call("PATCH", f"portal/endpoints/{visit.endpoint}", json={"base_url": new.fhir_base})
        assert moved.status_code == 200 and moved.json()["status"] == "pending_approval", moved.text
        visit.notify(roster(2, joined=[PATIENT]))
        app.pump_retrying_at_once()
        assert len(old.writebacks.recorded) == written  # the old server hears nothing more of this visit

        callback, _ = ehr_sign_in(tenant, visit.endpoint)
        assert callback.status_code == 302, callback.text
        approved = tenant.as_approver("POST", f"portal/endpoints/{visit.endpoint}/approve")
        assert approved.json()["status"] == "approved", approved.text
        visit.notify(roster(3, exited=[PATIENT]))
        app.pump_retrying_at_once()
        assert len(old.writebacks.recorded) == written
        assert new.writebacks.recorded, "the newly approved server gets the visit's events"
