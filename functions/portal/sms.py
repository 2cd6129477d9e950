"""SMS setup: the EHR's HL7 signing certificates, the two SMS consents, each endpoint's SMS settings, and (local
runs) the outbox of texts kept instead of sent. Phone numbers are in phone_numbers.py."""

from __future__ import annotations

from functions.portal.parameters import CertificatePath, ConsentPath, EndpointPath, FailedTextPath
from functions.portal.registry import Call, api
from shared.auth.principal import Role
from shared.core.errors import InvalidInput, NotFound
from shared.messaging.consent_models import CONSENT_TEXT, ConsentList
from shared.messaging.failed_texts import FailedText, FailedTextList
from shared.messaging.models import (
    OutboxList,
    OutboxMessage,
    SmsSettings,
    SmsSettingsPublic,
    SmsSettingsUpdate,
)
from shared.messaging.template_lengths import TemplateDraft, TemplateLengths
from shared.setup.models import CertificateList, CertificateUpload, SigningCertificate, SigningCertificatePublic


@api.route(
    "PUT",
    "portal/certificates/{environment}",
    summary="Upload the EHR's HL7 signing certificate for an environment (test or prod)",
    description="A public-key .cer (PEM, or Base64 of the DER). A private key, a malformed or expired "
    "certificate, or an RSA key under 2048 bits is refused and nothing is stored.",
    tag="sms",
    request=CertificateUpload,
    response=SigningCertificatePublic,
    parameters=CertificatePath,
)
def upload_certificate(call: Call[CertificateUpload]) -> SigningCertificate:
    return call.runtime.setup.certificates.upload(call.principal, call.param("environment"), call.body.certificate)


@api.route(
    "GET", "portal/certificates", summary="The uploaded signing certificates", tag="sms", response=CertificateList
)
def list_certificates(call: Call[None]) -> list[SigningCertificate]:
    return call.runtime.setup.certificates.list_certificates(call.principal)


@api.route("GET", "portal/sms/consents", summary="The two SMS consents", tag="sms", response=ConsentList)
def get_consents(call: Call[None]) -> ConsentList:
    return call.runtime.messaging.sms_setup.consents(call.principal)


@api.route(
    "POST",
    "portal/sms/consents/{name}",
    summary="Give an SMS consent (sms_terms, patient_messaging)",
    tag="sms",
    response=ConsentList,
    parameters=ConsentPath,
)
def give_consent(call: Call[None]) -> ConsentList:
    name = call.param("name")
    consent = next((known for known in CONSENT_TEXT if known == name), None)
    if consent is None:
        raise InvalidInput(f"There is no consent {name!r}.", {"name": f"one of {', '.join(CONSENT_TEXT)}"})
    return call.runtime.messaging.sms_setup.give_consent(call.principal, consent)


@api.route(
    "GET",
    "portal/endpoints/{endpoint_id}/sms-settings",
    summary="The endpoint's SMS settings",
    tag="sms",
    response=SmsSettingsPublic,
    parameters=EndpointPath,
)
def get_sms_settings(call: Call[None]) -> SmsSettings:
    settings = call.runtime.messaging.sms_setup.settings(call.principal, call.param("endpoint_id"))
    if settings is None:
        raise NotFound("This endpoint has no SMS settings yet; no texts are sent for it.")
    return settings


@api.route(
    "PUT",
    "portal/endpoints/{endpoint_id}/sms-settings",
    summary="Set the endpoint's SMS settings (after both consents)",
    tag="sms",
    request=SmsSettingsUpdate,
    response=SmsSettingsPublic,
    errors=(409,),
    parameters=EndpointPath,
)
def put_sms_settings(call: Call[SmsSettingsUpdate]) -> SmsSettings:
    return call.runtime.messaging.sms_setup.update_settings(call.principal, call.param("endpoint_id"), call.body)


@api.route(
    "POST",
    "portal/endpoints/{endpoint_id}/sms-settings/lengths",
    summary="What each template costs: the encoding and SMS segments of its longest rendering",
    description="Each template (left out: the default) is rendered with the clinic name given, the longest date and "
    "time of a year in the endpoint's time zone, and a join link; nothing is saved.",
    tag="sms",
    request=TemplateDraft,
    response=TemplateLengths,
    parameters=EndpointPath,
)
def template_lengths(call: Call[TemplateDraft]) -> TemplateLengths:
    return call.runtime.messaging.template_lengths.lengths(call.principal, call.param("endpoint_id"), call.body)


@api.route(
    "GET",
    "portal/sms/outbox",
    summary="Texts kept by the outbox provider (SMS_PROVIDER=outbox, local runs), newest first",
    tag="sms",
    response=OutboxList,
)
def sms_outbox(call: Call[None]) -> list[OutboxMessage]:
    from shared.messaging.providers.outbox import OutboxSmsSender

    call.principal.require(Role.ADMIN)
    sender = call.runtime.messaging.sender
    if not isinstance(sender, OutboxSmsSender):
        raise NotFound("Texts are sent through Azure Communication Services here; there is no outbox.")
    return sender.list_for(call.principal.tenant_id)


@api.route(
    "GET",
    "portal/sms/failed",
    summary="Texts that could not be sent in the last 30 days, newest first, with the reason",
    description="A text fails when Azure Communication Services refuses it, or keeps failing (5xx, timeouts) "
    "through every try (SMS_MAX_ATTEMPTS). Rate limits and 429s only delay a text. No numbers or texts are listed.",
    tag="sms",
    response=FailedTextList,
)
def failed_texts(call: Call[None]) -> list[FailedText]:
    return call.runtime.messaging.failed_texts.list_failed(call.principal)


@api.route(
    "POST",
    "portal/sms/failed/{endpoint_id}/{text_id}/resend",
    summary="Send a failed text again (its tries start over)",
    description="The text is queued again as it would be now: nothing is sent if the appointment was cancelled, "
    "has started, or the patient texted STOP meanwhile.",
    tag="sms",
    response=FailedText,
    status=202,
    errors=(409,),
    parameters=FailedTextPath,
)
def resend_text(call: Call[None]) -> FailedText:
    return call.runtime.messaging.failed_texts.resend(call.principal, call.param("endpoint_id"), call.param("text_id"))
