"""The `phone-number-jobs` queue: acquiring and releasing SMS numbers, a step per delivery (the portal routes
that start the jobs are in portal/phone_numbers.py)."""

from __future__ import annotations

import azure.functions as func

from functions._telemetry import traced
from shared.runtime import get_runtime
from shared.storage.queue_names import PHONE_NUMBER_JOBS

bp = func.Blueprint()


@bp.queue_trigger(arg_name="message", queue_name=PHONE_NUMBER_JOBS, connection="AzureWebJobsStorage")
@traced
def advance_phone_number_job(message: func.QueueMessage) -> None:
    from shared.messaging.models import PhoneNumberJobMessage

    get_runtime().messaging.number_jobs.advance(PhoneNumberJobMessage.model_validate_json(message.get_body()))
