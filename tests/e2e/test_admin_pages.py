"""What an admin looks after in the browser once visits run: a writeback that failed through an EHR outage,
replayed from the portal; the audit log; a text that could not be sent, sent again; the local SMS outbox; a
clinician's Microsoft 365 link, and unlinking it."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

import httpx
from playwright.sync_api import expect

from dev.fakes.sandbox_ehr import SAMPLE_APPOINTMENTS, SandboxEhr
from shared.auth.principal import Principal, Role
from shared.messaging.providers import OutgoingSms
from shared.messaging.tables import SmsMessageRepository
from shared.runtime import get_runtime
from tests.conftest import AppHost, GraphMeetings
from tests.e2e.conftest import OpenPortal
from tests.support.entra_stub import EntraStub
from tests.support.portal import Tenant, approved_endpoint
from tests.support.visits import signed_in_launch
from tests.support.writeback import Visit, poison_a_writeback


def test_a_failed_writeback_is_replayed_from_the_portal_and_audited(
    portal_for: OpenPortal,
    tenant: Tenant,
    ehr: SandboxEhr,
    app: AppHost,
    start_visit: Callable[[str], Visit],
    sleeps: list[float],
) -> None:
    visit = start_visit("epic")
    poison_a_writeback(visit, app)  # the EHR is down

    admin = portal_for(tenant, width=375)
    admin.sign_in()
    admin.go("writebacks")
    row = admin.page.get_by_role("row").filter(has_text=visit.key)
    expect(row).to_contain_text("Failed")
    expect(row).to_contain_text("503")
    admin.assert_usable()
    admin.shot("failed-writebacks")

    ehr.writebacks.fail_next = []  # the EHR is back
    row.get_by_role("button", name=f"Replay the writeback of {visit.key}").click()
    expect(row).to_contain_text("Replayed")
    app.pump()
    assert [w.body["ConnectionStatus"] for w in ehr.writebacks.of_kind("connection_status")] == ["Connected"]
    admin.page.reload()
    expect(admin.page.get_by_text("No failed writebacks")).to_be_visible()

    admin.page.get_by_role("link", name="Audit log").click()
    expect(admin.page.get_by_role("row").filter(has_text="replay").first).to_contain_text("writeback")
    expect(admin.page.get_by_role("button", name="Load more")).to_be_hidden()  # one page holds all of it
    admin.assert_usable()


def test_the_local_outbox_shows_texts_with_masked_numbers(portal_for: OpenPortal, tenant: Tenant) -> None:
    admin = portal_for(tenant)
    admin.sign_in()
    admin.go("sms/outbox")
    expect(admin.page.get_by_text("No texts yet")).to_be_visible()
    body = "North Clinic: your video visit is booked for Nov 24 at 9:30 AM. Join here: http://x/api/join#"
    get_runtime().messaging.sender.send(
        OutgoingSms(
            id=str(uuid.uuid4()), to="+15550100123", sender="+18335550100", body=body + "t0ken", tag=f"{tenant.id}|e|r"
        )
    )
    admin.page.get_by_role("button", name="Refresh").click()
    row = admin.page.get_by_role("row").filter(has_text="North Clinic")
    expect(row).to_contain_text(body + "\u2026")  # the link without its token
    expect(row).not_to_contain_text("t0ken")
    expect(row).not_to_contain_text("+15550100123")
    admin.assert_usable()


def test_a_failed_text_is_listed_with_its_reason_and_sent_again(
    portal_for: OpenPortal, tenant: Tenant, ehr: SandboxEhr
) -> None:
    endpoint = approved_endpoint(tenant, ehr)
    runtime = get_runtime()
    organisation = runtime.setup.organisations.get(Principal(tenant.id, "t", "t@x.org", frozenset({Role.ADMIN})))
    failed = runtime.messaging.sms.new_record(endpoint, "a" * 40, "due:2026-12-03T09:00:00+00:00", "reminder")
    reason = "Azure Communication Services refused the text (HTTP 400)."
    runtime.platform.tables.data(organisation, SmsMessageRepository).upsert(
        failed.model_copy(update={"status": "failed", "reason": reason, "attempts": 1})
    )

    admin = portal_for(tenant, width=375)
    admin.sign_in()
    admin.go("sms")
    row = admin.page.get_by_role("row").filter(has_text="HTTP 400")
    expect(row).to_contain_text("Reminder")
    admin.assert_usable()
    admin.shot("failed-texts")
    row.get_by_role("button", name=re.compile("Resend the Reminder text")).click()
    expect(admin.page.get_by_text("No failed texts.")).to_be_visible()
    stored = runtime.platform.tables.data(organisation, SmsMessageRepository).get(endpoint, failed.id)
    assert (stored.status, stored.attempts) == ("queued", 0)


def test_an_admin_sees_a_linked_clinician_and_unlinks_them(
    portal_for: OpenPortal, tenant: Tenant, ehr: SandboxEhr, graph_meetings: GraphMeetings, entra_id: EntraStub
) -> None:
    endpoint = approved_endpoint(tenant, ehr)
    assert tenant.call("PATCH", f"portal/endpoints/{endpoint}", json={"clinician_sign_in": True}).status_code == 200
    entra_id.user = {"tid": tenant.id, "oid": str(uuid.uuid4())}
    with httpx.Client(base_url=str(tenant.http.base_url)) as browser:
        assert signed_in_launch(browser, ehr, SAMPLE_APPOINTMENTS[0]).status_code == 302

    admin = portal_for(tenant, width=375)
    admin.sign_in()
    admin.go(f"endpoints/{endpoint}")
    row = admin.page.get_by_role("row").filter(has_text="Practitioner/E1001")
    expect(row).to_contain_text("Linked")
    # The edit form says truthfully which changes keep the approval (the API's cosmetic fields) and which do not.
    notice = admin.page.get_by_text("keeps the approval")
    expect(notice).to_contain_text("display name, what a clinician's launch opens, the Microsoft 365 sign-in")
    expect(notice).to_contain_text("sends this URL back for approval")
    admin.assert_usable()
    admin.page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name=re.compile("^Unlink ")).click()
    expect(row).to_contain_text("Not linked")
    admin.page.get_by_role("link", name="Audit log").click()
    expect(admin.page.get_by_role("row").filter(has_text="unlink").first).to_contain_text("clinician")
