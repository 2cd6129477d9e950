"""Reminder and retention timers."""

from __future__ import annotations

import azure.functions as func

from shared.runtime import get_runtime
from shared.services.retention import LaunchStatePurge
from shared.storage.tables import LaunchStateRepository

bp = func.Blueprint()


@bp.timer_trigger(schedule="0 * * * * *", arg_name="timer", run_on_startup=False)
def send_reminders(timer: func.TimerRequest) -> None:
    runtime = get_runtime()
    for geography in runtime.settings.enabled_geographies:
        runtime.reminders.tick(geography)


@bp.timer_trigger(schedule="30 */15 * * * *", arg_name="timer", run_on_startup=False)
def delete_ended_phone_numbers(timer: func.TimerRequest) -> None:
    runtime = get_runtime()
    for geography in runtime.settings.enabled_geographies:
        runtime.phone_retention.run(geography)


@bp.timer_trigger(schedule="0 */15 * * * *", arg_name="timer", run_on_startup=False)
def purge_launch_states(timer: func.TimerRequest) -> None:
    runtime = get_runtime()
    LaunchStatePurge(runtime.tables.control(LaunchStateRepository), runtime.clock).run()
