"""The per-worker composition: the platform's long-lived clients, and each feature's services built from them
on first use (never per request). Triggers call `get_runtime()` and hand what they need to a service.

The features are imported when first built, not when this module is: `import function_app` (which every
trigger module's `get_runtime` import is part of) stays light, and a worker loads only what it runs.
"""

from __future__ import annotations

from functools import cached_property, lru_cache
from typing import TYPE_CHECKING

from shared.core.clock import Clock, SystemClock

if TYPE_CHECKING:
    from shared.core.settings import Settings
    from shared.messaging.providers import SmsSender
    from shared.messaging.providers.numbers import PhoneNumberProvider
    from shared.messaging.wiring import MessagingServices
    from shared.platform import Platform
    from shared.reports.wiring import ReportServices
    from shared.scheduling.wiring import SchedulingServices
    from shared.secrets import SecretStore
    from shared.setup.models import Organisation
    from shared.setup.wiring import SetupServices
    from shared.visits.join_links import JoinRole
    from shared.visits.microsoft_sign_in import MicrosoftSignIn
    from shared.visits.providers import MeetingProvider
    from shared.visits.wiring import VisitServices
    from shared.writeback.ehr.client import EhrClient
    from shared.writeback.wiring import WritebackServices


class Runtime:
    def __init__(self, settings: Settings, clock: Clock | None = None) -> None:
        from shared.platform import Platform

        self.platform: Platform = Platform(settings, clock or SystemClock())
        self._meetings: MeetingProvider | None = None
        self._ehr_client: EhrClient | None = None
        self._phone_numbers: PhoneNumberProvider | None = None
        self._sms_sender: SmsSender | None = None
        self._clinician_sign_in: MicrosoftSignIn | None = None

    @property
    def settings(self) -> Settings:
        return self.platform.settings

    @property
    def clock(self) -> Clock:
        return self.platform.clock

    @cached_property
    def setup(self) -> SetupServices:
        from shared.setup.wiring import SetupServices

        return SetupServices(
            self.platform,
            endpoint_changed=self._endpoint_changed,
            writeback_record=lambda endpoint: self.writeback.writeback_setup.record(endpoint),
        )

    def _endpoint_changed(self, tenant_id: str, endpoint_id: str) -> None:
        """An endpoint's URL, settings or status changed here: writebacks go by the new ones at once (a worker
        that has not built the writeback feature has nothing of it cached)."""
        writeback = self.__dict__.get("writeback")
        if writeback is not None:
            writeback.delivery.forget(tenant_id, endpoint_id)

    @cached_property
    def visits(self) -> VisitServices:
        from shared.visits.wiring import VisitServices

        return VisitServices(
            self.platform,
            self.setup,
            writes_back=lambda tenant_id, endpoint_id: self.writeback.writeback_setup.writes_back(
                tenant_id, endpoint_id
            ),
            on_meeting_created=lambda organisation, link, ends_at: self.writeback.meeting_created(
                organisation, link, ends_at
            ),
            on_patient_sent=self._sent_to_meeting,
            on_meeting_named=lambda tenant_id, link: self.writeback.confirmations.meeting_created(tenant_id, link),
            text_invite=lambda organisation, invite: self.messaging.invite_texts.queue(organisation, invite),
            text_late=lambda organisation, appointment, minutes, at: self.messaging.patient_notices.queue_late(
                organisation, appointment, minutes, at
            ),
            provider=self._meetings,
            sign_in=self._clinician_sign_in,
        )

    def _sent_to_meeting(
        self,
        organisation: Organisation,
        endpoint_id: str,
        key: str,
        *,
        role: JoinRole = "patient",
        whose: str | None = None,
    ) -> None:
        self.writeback.participant_events.patient_sent(organisation, endpoint_id, key, role=role, whose=whose)

    @cached_property
    def messaging(self) -> MessagingServices:
        from shared.messaging.wiring import MessagingServices

        return MessagingServices(
            self.platform,
            self.setup,
            self.visits,
            numbers=self._phone_numbers,
            texts=self._sms_sender,
            on_confirmed=lambda organisation, endpoint_id, key: self.writeback.confirmations.confirmed(
                organisation, endpoint_id, key
            ),
        )

    @cached_property
    def scheduling(self) -> SchedulingServices:
        from shared.scheduling.wiring import SchedulingServices

        return SchedulingServices(self.platform, self.setup, self.messaging)

    @cached_property
    def reports(self) -> ReportServices:
        from shared.reports.wiring import ReportServices

        return ReportServices(self.platform)

    @cached_property
    def writeback(self) -> WritebackServices:
        from shared.writeback.wiring import WritebackServices

        return WritebackServices(
            self.platform,
            self.setup,
            self.visits,
            client=self._ehr_client,
            call_ended=lambda organisation, endpoint_id, key: self.messaging.surveys.call_ended(
                organisation, endpoint_id, key
            ),
        )

    def use(
        self,
        *,
        meetings: MeetingProvider | None = None,
        ehr_client: EhrClient | None = None,
        phone_numbers: PhoneNumberProvider | None = None,
        sms_sender: SmsSender | None = None,
        clinician_sign_in: MicrosoftSignIn | None = None,
        secret_store: SecretStore | None = None,
    ) -> None:
        """Talk to an outside system through the given client instead of the configured one (the composition
        root's seam: tests hand in clients of their stubs). The features are built again on next use."""
        if secret_store is not None:  # what holds secrets or keys derived from them is built again too
            self.platform.secret_store = secret_store
            for name in ("secrets", "signing_keys", "backend_services", "smart"):
                self.platform.__dict__.pop(name, None)
        self._meetings = meetings or self._meetings
        self._ehr_client = ehr_client or self._ehr_client
        self._phone_numbers = phone_numbers or self._phone_numbers
        self._sms_sender = sms_sender or self._sms_sender
        self._clinician_sign_in = clinician_sign_in or self._clinician_sign_in
        for name, member in vars(Runtime).items():
            if isinstance(member, cached_property):  # every feature
                self.__dict__.pop(name, None)


@lru_cache(maxsize=1)
def get_runtime() -> Runtime:
    """The worker's runtime, built (and every setting validated) when a function first runs."""
    from shared.core.settings import get_settings

    return Runtime(get_settings())
