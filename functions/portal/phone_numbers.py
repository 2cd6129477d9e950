"""SMS phone numbers: list them, acquire or release one (a job, 202 with its Location, that the
`phone-number-jobs` queue carries on), and choose which endpoints send from each."""

from __future__ import annotations

from urllib.parse import quote

from functions.portal.parameters import JobPath, NumberPath
from functions.portal.registry import Call, Reply, api
from shared.messaging.models import (
    PhoneNumberJob,
    PhoneNumberJobPublic,
    PhoneNumberLinks,
    PhoneNumberList,
    PhoneNumberOrder,
    PhoneNumberPublic,
)


def _accepted(job: PhoneNumberJob) -> Reply:
    return Reply(job, {"Location": f"/api/portal/phone-number-jobs/{quote(job.id)}", "Retry-After": "5"})


@api.route(
    "GET",
    "portal/phone-numbers",
    summary="The organisation's SMS phone numbers, and jobs acquiring or releasing them",
    tag="sms",
    response=PhoneNumberList,
)
def list_phone_numbers(call: Call[None]) -> PhoneNumberList:
    return call.runtime.messaging.phone_numbers.list_numbers(call.principal)


@api.route(
    "POST",
    "portal/phone-numbers",
    summary="Acquire a phone number (after both SMS consents)",
    description="Searching and buying take up to a few minutes. The answer is 202 with the job; poll its "
    "`Location` until `done`. The job goes on after a restart of the host.",
    tag="sms",
    request=PhoneNumberOrder,
    response=PhoneNumberJobPublic,
    status=202,
    errors=(409,),
)
def order_phone_number(call: Call[PhoneNumberOrder]) -> Reply:
    return _accepted(call.runtime.messaging.phone_numbers.order(call.principal, call.body))


@api.route(
    "GET",
    "portal/phone-number-jobs/{job_id}",
    summary="A job acquiring or releasing a phone number",
    tag="sms",
    response=PhoneNumberJobPublic,
    parameters=JobPath,
)
def get_phone_number_job(call: Call[None]) -> PhoneNumberJob:
    return call.runtime.messaging.phone_numbers.job(call.principal, call.param("job_id"))


@api.route(
    "DELETE",
    "portal/phone-numbers/{number}",
    summary="Release a phone number (unlink it from every endpoint first)",
    description="The answer is 202 with the job; poll its `Location` until `done`.",
    tag="sms",
    response=PhoneNumberJobPublic,
    status=202,
    errors=(409,),
    parameters=NumberPath,
)
def release_phone_number(call: Call[None]) -> Reply:
    return _accepted(call.runtime.messaging.phone_numbers.release(call.principal, call.param("number")))


@api.route(
    "PUT",
    "portal/phone-numbers/{number}/endpoints",
    summary="Choose the FHIR endpoints that send texts from this number",
    description="Endpoints listed send from this number (one number may serve many endpoints); endpoints "
    "that used it and are not listed stop sending texts until another number is linked.",
    tag="sms",
    request=PhoneNumberLinks,
    response=PhoneNumberPublic,
    errors=(409,),
    parameters=NumberPath,
)
def link_phone_number(call: Call[PhoneNumberLinks]) -> PhoneNumberPublic:
    return call.runtime.messaging.phone_numbers.link(call.principal, call.param("number"), call.body.endpoint_ids)
