"""Walk the configuration flow against a running `make run`, as an admin and an approver would:
sign in locally, set up the organisation, add the sandbox EHR's FHIR base URL, submit it, sign in to the EHR as
the approver, approve, print the integration records, set up SMS and let the sandbox EHR book a visit, then walk
a visit (dev/demo_visit.py): the clinician's one-time Microsoft 365 sign-in, the lobby, the call, the reports.

    python -m dev.demo [--api http://localhost:7071] [--identity http://localhost:7073] [--ehr http://localhost:7072]
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from dev.__main__ import LOCAL_BACKEND_CLIENT_ID, LOCAL_CLIENT_ID
from dev.browser import to_ehr
from dev.demo_replies import reply_to_reminder
from dev.demo_visit import walk_visit

ADMIN = "admin@contoso.example"
APPROVER = "analyst@contoso.example"


class Step:
    def __init__(self, api: str, identity: str) -> None:
        self.http = httpx.Client(base_url=api, timeout=30)
        self.identity = identity
        self.tokens: dict[str, str] = {}

    def token(self, user: str, role: str) -> str:
        if user not in self.tokens:
            answer = httpx.post(f"{self.identity}/token", json={"username": user, "roles": [role]}, timeout=10)
            answer.raise_for_status()
            self.tokens[user] = answer.json()["access_token"]
        return self.tokens[user]

    def call(self, method: str, path: str, user: str, role: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token(user, role)}"}
        return self.http.request(method, f"/api/portal/{path}", headers=headers, **kwargs)

    def texts(self, user: str, role: str) -> list[dict[str, Any]]:
        """The texts sent, links whole (the dev host's /dev/outbox: the portal's outbox keeps no link's token)."""
        headers = {"Authorization": f"Bearer {self.token(user, role)}"}
        return list(expect(self.http.get("/dev/outbox", headers=headers), 200)["items"])


def expect(response: httpx.Response, *statuses: int) -> dict[str, Any]:
    if response.status_code not in statuses:
        print(f"  {response.request.method} {response.request.url.path} answered {response.status_code}:")
        print(f"  {response.text}")
        sys.exit(1)
    body: dict[str, Any] = response.json() if response.content else {}
    return body


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m dev.demo", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--api", default="http://localhost:7071", help="the connector (make demo PORT=...)")
    parser.add_argument("--identity", default="http://localhost:7073", help="the local sign-in (IDENTITY_PORT=)")
    parser.add_argument("--ehr", default="http://localhost:7072", help="the sandbox EHR (EHR_PORT=)")
    args = parser.parse_args(argv)
    step = Step(args.api, args.identity)
    admin = (ADMIN, "Connector.Admin")
    approver = (APPROVER, "Connector.Approver")
    fhir_base = f"{args.ehr}/fhir"

    print(f"1. {ADMIN} sets up the organisation")
    organisation = {"display_name": "Contoso Health", "geography": "US", "time_zone": "America/Chicago"}
    expect(step.call("POST", "organisation", *admin, json=organisation), 201, 409)

    print(f"2. {ADMIN} adds the FHIR base URL {fhir_base} and submits it for approval")
    profile = expect(httpx.get(f"{args.ehr}/_sandbox/profile", timeout=10), 200)
    client_type = "confidential-asymmetric" if profile["confidential"] else "public"
    endpoint = {"base_url": fhir_base, "environment": "test", "approver": APPROVER, "client_id": LOCAL_CLIENT_ID}
    endpoint["client_type"] = client_type
    print(f"   the sandbox EHR behaves as {profile['name']}: the connector's client is {client_type}")
    created = step.call("POST", "endpoints", *admin, json=endpoint)
    if created.status_code == 409:
        listed = expect(step.call("GET", "endpoints", *admin), 200)["items"]
        current = next(e for e in listed if e["base_url"] == fhir_base)
    else:
        current = expect(created, 201)
    print(f"   endpoint {current['id']}: {current['status']}, discovery from {current['discovery_source']}")
    if current["status"] == "draft":
        current = expect(step.call("POST", f"endpoints/{current['id']}/submit", *admin), 200)
    endpoint_id = current["id"]

    if current["status"] != "approved":
        print(f"3. {APPROVER} signs in to the EHR (SMART standalone launch with PKCE)")
        start = expect(step.call("POST", f"endpoints/{endpoint_id}/sign-in", *approver), 200)
        begin = step.http.get(start["authorize_url"], follow_redirects=False)  # binds the sign-in to this client
        at_ehr = to_ehr(begin)  # a redirect, or a form posted where the EHR takes authorize by POST
        back = step.http.get(at_ehr.headers["Location"], follow_redirects=False)
        print(f"   back from the EHR, the connector answered {back.status_code} -> {back.headers.get('Location')}")
        validated = expect(step.call("GET", f"endpoints/{endpoint_id}", *approver), 200)
        print(f"   status {validated['status']}, EHR user {validated['validated_ehr_user']}")
        print(f"4. {APPROVER} approves")
        expect(step.call("POST", f"endpoints/{endpoint_id}/approve", *approver), 200)

    print("5. The integration records for the EHR analyst:")
    records = expect(step.call("GET", f"endpoints/{endpoint_id}/integration-records", *admin), 200)
    for record in records["records"]:
        print(f"   {record['title']}")
        for value in record["values"]:
            print(f"     {value['name']}: {value['value']}")
    print("6. SMS: the EHR's HL7 signing certificate, the two consents, a phone number, the endpoint's SMS settings")
    pem = httpx.get(f"{args.ehr}/_sandbox/hl7/certificate", timeout=10).text
    certificate = expect(step.call("PUT", "certificates/test", *admin, json={"certificate": pem}), 200)
    print(f"   certificate {certificate['thumbprint']} ({certificate['subject']}), expires {certificate['not_after']}")
    for consent in ("sms_terms", "patient_messaging"):
        expect(step.call("POST", f"sms/consents/{consent}", *admin), 200)
    job = expect(step.call("POST", "phone-numbers", *admin, json={"number_type": "toll_free"}), 202)
    print(f"   phone number job {job['id']}: {job['status']}")
    for _ in range(60):  # the dev host runs the job from the phone-number-jobs queue
        job = expect(step.call("GET", f"phone-number-jobs/{job['id']}", *admin), 200)
        if job["done"]:
            break
        time.sleep(0.5)
    if job["status"] != "succeeded":
        raise SystemExit(f"   the phone number job did not succeed: {job}")
    print(f"   phone number {job['number']} acquired")
    linked = expect(
        step.call("PUT", f"phone-numbers/{job['number']}/endpoints", *admin, json={"endpoint_ids": [endpoint_id]}),
        200,
    )
    print(f"   linked to endpoints {linked['linked_endpoint_ids']}")
    settings = {"clinic_name": "Contoso Health", "sender_number": job["number"], "reminder_minutes_before": 60}
    settings["survey_after_visit"] = True  # a two-question survey texted when the call ends
    expect(step.call("PUT", f"endpoints/{endpoint_id}/sms-settings", *admin, json=settings), 200)

    print("7. The EHR books a video visit in two hours (signed SIU^S12); the connector acknowledges and texts")
    earlier = {m["id"] for m in step.texts(*admin)}
    visit_start = (datetime.now(UTC) + timedelta(hours=2)).replace(second=0, microsecond=0)
    sent = httpx.post(
        f"{args.ehr}/_sandbox/hl7/send",
        json={"endpoint_id": endpoint_id, "event": "S12", "appointment": 0, "start": visit_start.isoformat()},
        timeout=30,
    ).json()
    print(f"   HTTP {sent['status']}, ACK {sent['ack'].split(chr(13))[1]}")
    for _ in range(30):  # the dev host pumps the hl7-appointments and sms-outbound queues every couple of seconds
        outbox = [m for m in step.texts(*admin) if m["id"] not in earlier]
        if outbox:
            print(f"   text to {outbox[0]['to_masked']}: {outbox[0]['body']}")
            break
        time.sleep(0.5)
    else:
        print("   no new text: the EHR booked this visit before (an earlier make demo), or see the outbox in a moment")

    reply_to_reminder(args.ehr, job["number"], lambda: step.texts(*admin))

    print("8. EHR writeback: connect and disconnect go back to the EHR (FHIR AuditEvent and Appointment status)")
    writeback = {"adapter": "fhir", "client_id": LOCAL_BACKEND_CLIENT_ID}
    saved = expect(step.call("PUT", f"endpoints/{endpoint_id}/writeback", *admin, json=writeback), 200)
    print(f"   adapter {saved['adapter']}, backend client {saved['client_id']}, JWKS {saved['jwks_url']}")
    print(f"   The EHR's record of writebacks: {args.ehr}/ehr/writebacks")

    print("9. A visit: the clinician launches from the EHR, the patient from the portal; the lobby, then the call")
    walk_visit(
        args.api,
        args.ehr,
        lambda method, path, **kw: step.call(method, path, *admin, **kw),
        endpoint_id,
        texts=lambda: step.texts(*admin),
    )
    print(f"   The reports page: {args.api}/#/reports (lobby wait, call quality); more visits: {args.ehr}/ehr")

    print("10. The audit log, newest first:")
    for entry in expect(step.call("GET", "audit", *admin), 200)["items"]:
        print(f"   {entry['at']}  {entry['action']:<8} {entry['entity']:<13} {', '.join(entry['fields'])}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except httpx.ConnectError as error:
        sys.exit(f"Cannot reach the connector ({error}). Is `make run` running, and has it printed its URLs?")
