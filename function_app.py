"""Composition only: the FunctionApp and one blueprint per surface in functions/.

Indexing the app stays light (bench/import_time.py): the trigger modules import their services, the SDKs and the
settings models when a function first runs. A missing required setting stops the app here, naming the setting;
the values of every setting are validated when a function first runs, and a bad one fails it naming the setting.
"""

import azure.functions as func

from functions import (
    health,
    hl7,
    launch,
    lost_link,
    meeting_events,
    phone_number_jobs,
    portal,
    reminders,
    sms_events,
    surveys,
    texts,
)
from shared.core.geography import configured_geographies
from shared.core.startup import check_required_settings

check_required_settings()
geographies = configured_geographies()  # their queues' triggers: one per enabled geography

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)
app.register_functions(health.bp)
app.register_functions(portal.bp)
app.register_functions(launch.bp)
app.register_functions(meeting_events.bp)
app.register_functions(meeting_events.geography_blueprint(geographies))
app.register_functions(phone_number_jobs.bp)
app.register_functions(reminders.bp)
app.register_functions(hl7.bp)
app.register_functions(sms_events.bp)
app.register_functions(surveys.bp)
app.register_functions(hl7.geography_blueprint(geographies))
app.register_functions(reminders.geography_blueprint(geographies))
app.register_functions(texts.blueprint(geographies))
app.register_functions(lost_link.bp)
app.register_functions(lost_link.geography_blueprint(geographies))
