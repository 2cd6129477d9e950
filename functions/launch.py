"""Virtual visits for people in a browser: the EHR launches (clinician and patient), the EHR's redirect back,
SMS join links and the device test page. Every failure is a plain page that says what to do."""

from __future__ import annotations

import base64
import hashlib
import html
import logging
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

import azure.functions as func

from functions._http import (
    authorize_response,
    browser_secret,
    forget_state_cookie,
    html_page,
    redirect,
    state_cookie,
)
from functions._telemetry import traced
from shared.core.errors import DomainError
from shared.core.i18n import N_, html_lang, localize, translate
from shared.core.locales import DEFAULT_LOCALE, locale_for_accept_language
from shared.runtime import get_runtime
from shared.visits.join_links import JoinLinkRefused, JoinLinks
from shared.visits.sessions import COOKIE, LIFETIME

if TYPE_CHECKING:  # the launch service loads when a launch first runs, not while the app is indexed
    from shared.smart.client import AuthorizeRedirect
    from shared.visits.dial_in import DialInOffer
    from shared.visits.launch import LaunchKind, LaunchResult

log = logging.getLogger(__name__)
bp = func.Blueprint()
PAGES = Path(__file__).parent / "pages"


def _failure(
    error: Exception, title: str = N_("The virtual visit could not start"), locale: str | None = None
) -> func.HttpResponse:
    """The page a person sees when a visit cannot start; a patient's in their language (`locale`: the appointment's
    when the link names one, else their browser's), a clinician's in English."""
    from shared.visits.providers import MeetingUnavailable
    from shared.visits.refusals import LaunchRefused

    def page(title: str, message: str, status: int) -> func.HttpResponse:
        return html_page(translate(locale, title), translate(locale, message), status, lang=html_lang(locale))

    if isinstance(error, JoinLinkRefused):
        said, status = error.said_in(error.locale or locale), 410 if error.reason in ("expired", "cancelled") else 400
        lost = N_("Lost your link, or it does not work? Get it again by text.")
        again = (f"/api/lost-link/{error.endpoint_id}", translate(error.locale or locale, lost))
        return html_page(
            *said, status=status, lang=html_lang(error.locale or locale), back=again if error.endpoint_id else None
        )
    if isinstance(error, LaunchRefused):
        return html_page(title, error.detail, status=error.status)
    if isinstance(error, MeetingUnavailable):  # its detail names Graph's answer: the log's, not the person's
        log.warning("Launch failed: the meeting service: %s", error.detail)
        return page(
            N_("The video service is not answering"),
            N_(
                "Microsoft Teams is not answering right now, so the visit cannot open yet: wait a minute and start "
                "the visit again."
            ),
            503,
        )
    if isinstance(error, DomainError):
        log.warning("Launch failed: %s", type(error).__name__)
        return page(title, N_("Something went wrong while starting the visit; try again in a minute."), 502)
    log.exception("Launch failed unexpectedly", exc_info=error)
    return page(title, N_("Something went wrong on our side; try again in a minute."), 500)


def _authorize(target: AuthorizeRedirect, secure: bool) -> func.HttpResponse:
    return authorize_response(target, state_cookie(target.state, target.browser, "/api/launch/", secure=secure))


def _start(req: func.HttpRequest, kind: LaunchKind) -> func.HttpResponse:
    from shared.visits.launch import RECORD_PARAMETERS

    record = {name: req.params.get(param, "") for param, name in RECORD_PARAMETERS.items()}
    runtime = get_runtime()
    try:
        target = runtime.visits.launch.start(
            kind, iss=req.params.get("iss"), launch=req.params.get("launch"), record=record
        )
    except Exception as error:
        return _failure(error)
    return _authorize(target, secure=runtime.settings.environment != "local")


@bp.route(route="launch/provider", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@traced
def launch_provider(req: func.HttpRequest) -> func.HttpResponse:
    return _start(req, "provider")


@bp.route(route="launch/patient", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@traced
def launch_patient(req: func.HttpRequest) -> func.HttpResponse:
    return _start(req, "patient")


@bp.route(route="launch/callback", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@traced
def launch_callback(req: func.HttpRequest) -> func.HttpResponse:
    runtime = get_runtime()
    state = req.params.get("state")
    try:
        result = runtime.visits.launch.complete(
            state=state,
            code=req.params.get("code"),
            error=req.params.get("error"),
            error_description=req.params.get("error_description"),
            browser=browser_secret(req, state),
        )
    except Exception as error:
        return forget_state_cookie(_failure(error), state, "/api/launch/")
    return _visit(result, state, secure=runtime.settings.environment != "local")


@bp.route(route="launch/microsoft", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@traced
def launch_microsoft(req: func.HttpRequest) -> func.HttpResponse:
    """Back from a clinician's one-time Microsoft 365 sign-in: their visit goes on, linked or not."""
    runtime = get_runtime()
    state = req.params.get("state")
    try:
        result = runtime.visits.launch.complete_sign_in(
            state=state, code=req.params.get("code"), error=req.params.get("error"), browser=browser_secret(req, state)
        )
    except Exception as error:
        return forget_state_cookie(_failure(error), state, "/api/launch/")
    return _visit(result, state, secure=runtime.settings.environment != "local")


def _visit(result: LaunchResult, state: str | None, *, secure: bool) -> func.HttpResponse:
    """The browser goes to the clinician's Microsoft 365 sign-in first, or on to the visit."""
    if result.sign_in is not None:
        return forget_state_cookie(_authorize(result.sign_in, secure), state, "/api/launch/")
    response = forget_state_cookie(redirect(result.url), state, "/api/launch/")
    if result.visit_session is not None:
        # Only this visit's participants view gets it; never readable by scripts.
        response.headers.add(
            "Set-Cookie",
            f"{COOKIE}={result.visit_session}; Path=/api/visits/{result.appointment_key}/; "
            f"Max-Age={int(LIFETIME.total_seconds())}; HttpOnly; SameSite=Lax{'; Secure' if secure else ''}",
        )
    return response


def _browser_locale(req: func.HttpRequest) -> str | None:
    return locale_for_accept_language(req.headers.get("accept-language"))


def _join(token: str, req: func.HttpRequest) -> func.HttpResponse:
    try:
        joined = get_runtime().visits.launch.join(token)
    except Exception as error:
        if isinstance(error, JoinLinkRefused) and error.endpoint_id is None:
            error.endpoint_id = JoinLinks.endpoint_named(token)  # a damaged link: its clinic's lost-link page
        return _failure(error, title=N_("This link cannot be used"), locale=_browser_locale(req))
    return redirect(joined.url) if joined.dial_in is None else _dial_in_page(joined.url, joined.dial_in)


def _dial_in_page(target: str, offer: DialInOffer) -> func.HttpResponse:
    """The video link with the meeting's phone number beside it: one more tap, so the number can be read first."""
    number, conference = offer.dial_in.number, offer.dial_in.conference_id
    dial = "".join(c for c in number if c.isdigit() or c == "+") + ",," + "".join(c for c in conference if c.isdigit())
    values = {"MEETING": target, "TEL": dial + "%23", "NUMBER": number, "ID": conference}
    page = localize((PAGES / "dial_in.html").read_text(encoding="utf-8"), offer.locale)
    for name, value in values.items():
        page = page.replace("{{" + name + "}}", html.escape(value, quote=True))
    style = page.split("<style>", 1)[1].split("</style>", 1)[0]
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    headers = {
        "Content-Security-Policy": f"default-src 'none'; style-src 'sha256-{digest}'; base-uri 'none'; "
        "frame-ancestors 'none'",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
    }
    return func.HttpResponse(page, mimetype="text/html", charset="utf-8", headers=headers)


@bp.route(route="join/{token}", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@traced
def join(req: func.HttpRequest) -> func.HttpResponse:
    """Links sent before the token moved to the fragment: they work until they close."""
    return _join(req.route_params.get("token", ""), req)


@cache
def _join_page(locale: str) -> tuple[str, str]:
    """The join page in `locale` and its Content-Security-Policy, which allows its own script and style by hash,
    nothing else."""
    page = localize((PAGES / "join.html").read_text(encoding="utf-8"), locale)

    def digest(tag: str) -> str:
        inline = page.split(f"<{tag}>", 1)[1].split(f"</{tag}>", 1)[0]
        return "'sha256-" + base64.b64encode(hashlib.sha256(inline.encode()).digest()).decode() + "'"

    policy = (
        f"default-src 'none'; script-src {digest('script')}; style-src {digest('style')}; "
        "base-uri 'none'; frame-ancestors 'none'"  # no form-action: the post ends in a redirect to the meeting
    )
    return page, policy


@bp.route(route="join", methods=["GET", "POST"], auth_level=func.AuthLevel.ANONYMOUS)
@traced
def join_page(req: func.HttpRequest) -> func.HttpResponse:
    """GET: the page a join link opens (`/api/join#{token}`); it posts the fragment's token here."""
    if req.method == "POST":
        body = req.get_body() or b""
        token = parse_qs(body.decode("utf-8", "replace")).get("token", [""])[0] if len(body) <= 4096 else ""
        return _join(token, req)
    # The page cannot know the link's appointment (its token is in the fragment): the browser's language.
    page, policy = _join_page(_browser_locale(req) or DEFAULT_LOCALE)
    headers = {"Content-Security-Policy": policy, "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}
    headers["Vary"] = "Accept-Language"
    return func.HttpResponse(page, mimetype="text/html", charset="utf-8", headers=headers)


@cache
def _device_test_page(locale: str) -> str:
    return localize((PAGES / "device_test.html").read_text(encoding="utf-8"), locale)


@bp.route(route="device-test", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@traced
def device_test(req: func.HttpRequest) -> func.HttpResponse:
    headers = {"Cache-Control": "public, max-age=3600", "Vary": "Accept-Language"}  # in the browser's language
    page = _device_test_page(_browser_locale(req) or DEFAULT_LOCALE)
    return func.HttpResponse(page, mimetype="text/html", charset="utf-8", headers=headers)
