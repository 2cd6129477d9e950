"""Reminder and retention timers, and moving reminders when an endpoint's reminder timing changes."""

from __future__ import annotations

import azure.functions as func

from shared.messaging.models import ReminderReindex
from shared.runtime import get_runtime
from shared.storage.queues import REMINDER_REINDEX

bp = func.Blueprint()


@bp.timer_trigger(schedule="0 * * * * *", arg_name="timer", run_on_startup=False)
def send_reminders(timer: func.TimerRequest) -> None:
    runtime = get_runtime()
    for geography in runtime.settings.storage.enabled_geographies:
        runtime.scheduling.reminders.tick(geography)


@bp.timer_trigger(schedule="30 */15 * * * *", arg_name="timer", run_on_startup=False)
def delete_ended_phone_numbers(timer: func.TimerRequest) -> None:
    runtime = get_runtime()
    for geography in runtime.settings.storage.enabled_geographies:
        runtime.scheduling.retention.run(geography)


@bp.timer_trigger(schedule="0 */15 * * * *", arg_name="timer", run_on_startup=False)
def purge_launch_states(timer: func.TimerRequest) -> None:
    get_runtime().platform.launch_state_purge.run()


@bp.queue_trigger(arg_name="message", queue_name=REMINDER_REINDEX, connection="AzureWebJobsStorage")
def reschedule_reminders(message: func.QueueMessage) -> None:
    get_runtime().scheduling.appointments.reschedule_reminders(ReminderReindex.model_validate_json(message.get_body()))
