"""Composition only: the FunctionApp and one blueprint per file in functions/.

Settings are validated here, so that a missing or invalid setting stops the app at start, naming the setting.
"""

import azure.functions as func

from functions import (
    health,
    launch,
    participants,
    phone_numbers,
    portal,
    reminders,
    reports,
    scheduling,
    sign_in,
    sms_events,
    writeback,
)
from shared.core.settings import get_settings

get_settings()

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)
app.register_functions(health.bp)
app.register_functions(portal.bp)
app.register_functions(launch.bp)
app.register_functions(participants.bp)
app.register_functions(phone_numbers.bp)
app.register_functions(reminders.bp)
app.register_functions(scheduling.bp)
app.register_functions(sms_events.bp)
app.register_functions(writeback.bp)
app.register_functions(reports.bp)
app.register_functions(sign_in.bp)
