"""Reminder and retention timers, the fan-out of due reminders (one `reminders-due` trigger per enabled geography,
on its own account), and moving reminders when an endpoint's reminder timing changes."""

from __future__ import annotations

from collections.abc import Iterable

import azure.functions as func

from functions._geography import geography_triggers
from functions._telemetry import traced
from shared.core.geography import Geography
from shared.runtime import get_runtime
from shared.storage.queue_names import REMINDER_REINDEX, REMINDERS_DUE

bp = func.Blueprint()


@bp.timer_trigger(schedule="0 * * * * *", arg_name="timer", run_on_startup=False)
@traced
def send_reminders(timer: func.TimerRequest) -> None:
    runtime = get_runtime()
    for geography in runtime.settings.storage.enabled_geographies:
        runtime.scheduling.reminders.tick(geography)


@bp.timer_trigger(schedule="30 */15 * * * *", arg_name="timer", run_on_startup=False)
@traced
def delete_ended_phone_numbers(timer: func.TimerRequest) -> None:
    runtime = get_runtime()
    for geography in runtime.settings.storage.enabled_geographies:
        runtime.scheduling.retention.run(geography)


@bp.timer_trigger(schedule="0 */15 * * * *", arg_name="timer", run_on_startup=False)
@traced
def purge_launch_states(timer: func.TimerRequest) -> None:
    get_runtime().platform.launch_state_purge.run()


@bp.queue_trigger(arg_name="message", queue_name=REMINDER_REINDEX, connection="AzureWebJobsStorage")
@traced
def reschedule_reminders(message: func.QueueMessage) -> None:
    from shared.messaging.models import ReminderReindex

    get_runtime().scheduling.appointments.reschedule_reminders(ReminderReindex.model_validate_json(message.get_body()))


def _fan_out(geography: Geography, body: bytes) -> None:
    from shared.scheduling.models import DueReminders

    get_runtime().scheduling.reminders.fan_out(geography, DueReminders.model_validate_json(body))


def geography_blueprint(geographies: Iterable[Geography]) -> func.Blueprint:
    """The `reminders-due` trigger of each enabled geography."""
    return geography_triggers(geographies, queue=REMINDERS_DUE, name="queue_due_reminders", handle=_fan_out)
