"""Composition only: the FunctionApp and one blueprint per surface in functions/.

Settings are validated here, so that a missing or invalid setting stops the app at start, naming the setting.
"""

import azure.functions as func

from functions import health, hl7, launch, meeting_events, phone_number_jobs, portal, reminders, sms_events, texts
from shared.core.settings import get_settings

geographies = get_settings().storage.enabled_geographies  # their queues' triggers: one per enabled geography

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)
app.register_functions(health.bp)
app.register_functions(portal.bp)
app.register_functions(launch.bp)
app.register_functions(meeting_events.bp)
app.register_functions(phone_number_jobs.bp)
app.register_functions(reminders.bp)
app.register_functions(hl7.bp)
app.register_functions(sms_events.bp)
app.register_functions(hl7.geography_blueprint(geographies))
app.register_functions(reminders.geography_blueprint(geographies))
app.register_functions(texts.blueprint(geographies))
