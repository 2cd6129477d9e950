""" "I lost my link": a public page per endpoint (`/api/lost-link/{endpoint_id}`, the address the integration
records give clinics for their website) where a patient types their mobile number and, if it has a visit soon,
gets its link texted again. The answer is the same whatever the number has; the lookup runs on the `lost-links`
queue of the organisation's geography (one trigger per enabled geography)."""

from __future__ import annotations

import base64
import hashlib
import html
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from urllib.parse import parse_qs

import azure.functions as func

from functions._geography import geography_triggers
from functions._http import html_page
from functions._telemetry import traced
from shared.core.geography import Geography
from shared.core.i18n import N_, html_lang, localize, translate
from shared.core.locales import DEFAULT_LOCALE, locale_for_accept_language
from shared.runtime import get_runtime
from shared.storage.queue_names import LOST_LINKS

bp = func.Blueprint()
PAGE = Path(__file__).parent / "pages" / "lost_link.html"
NOT_A_NUMBER = N_("This is not a mobile number: type the number your clinic texts, with its area code.")
SENT = N_(
    "Thank you. If that number has a video visit today or in the next 24 hours, its link is on its way by text. "
    "No text in a few minutes? Call your clinic."
)


@cache
def _template(locale: str) -> tuple[str, str]:
    page = localize(PAGE.read_text(encoding="utf-8"), locale)
    style = page.split("<style>", 1)[1].split("</style>", 1)[0]
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    policy = f"default-src 'none'; style-src 'sha256-{digest}'; form-action 'self'; base-uri 'none'; "
    policy += "frame-ancestors 'none'"
    return page, policy


def _page(locale: str, notice: str = "", error: str = "", status: int = 200) -> func.HttpResponse:
    page, policy = _template(locale)

    def said(words: str) -> str:
        return html.escape(translate(locale, words))

    page = (
        page.replace("{{NOTICE}}", f'<p class="notice" role="status">{said(notice)}</p>' if notice else "")
        .replace("{{ERROR}}", f'<p class="error" id="phone-error">{said(error)}</p>' if error else "")
        .replace("{{ERROR_ID}}", " phone-error" if error else "")
        .replace("{{INVALID}}", ' aria-invalid="true" autofocus' if error else "")
    )
    headers = {"Content-Security-Policy": policy, "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}
    return func.HttpResponse(page, status_code=status, mimetype="text/html", charset="utf-8", headers=headers)


def _address(req: func.HttpRequest) -> str:
    """The client's address: Front Door's X-Azure-ClientIP (it sets it, and only Front Door reaches the app in
    Azure), else the last hop the host's front end added to X-Forwarded-For (earlier entries are the client's say)."""
    front_door = (req.headers.get("x-azure-clientip") or "").strip()
    forwarded = [part.strip() for part in (req.headers.get("x-forwarded-for") or "").split(",") if part.strip()]
    return front_door or (forwarded[-1] if forwarded else "unknown")


@bp.route(route="lost-link/{endpoint_id}", methods=["GET", "POST"], auth_level=func.AuthLevel.ANONYMOUS)
@traced
def lost_link(req: func.HttpRequest) -> func.HttpResponse:
    from shared.core.errors import InvalidInput, NotFound
    from shared.scheduling.lost_links import TooManyTries

    locale = locale_for_accept_language(req.headers.get("accept-language")) or DEFAULT_LOCALE
    service = get_runtime().scheduling.lost_links
    endpoint_id = req.route_params.get("endpoint_id", "")
    try:
        if req.method != "POST":
            service.endpoint(endpoint_id)
            return _page(locale)
        body = req.get_body() or b""
        typed = parse_qs(body.decode("utf-8", "replace")).get("phone", [""])[0] if len(body) <= 1024 else ""
        service.request(endpoint_id, typed.strip(), _address(req))
    except NotFound as gone:
        return html_page(
            translate(locale, N_("This page is not set up")),
            translate(locale, gone.detail),
            404,
            lang=html_lang(locale),
        )
    except InvalidInput:
        return _page(
            locale,
            error=NOT_A_NUMBER,
            status=400,
        )
    except TooManyTries:
        return _page(locale, error=N_("Too many tries: wait a few minutes, then try again."), status=429)
    return _page(locale, notice=SENT)


def _handle(geography: Geography, body: bytes) -> None:
    get_runtime().scheduling.lost_links.handle(geography, body)


def geography_blueprint(geographies: Iterable[Geography]) -> func.Blueprint:
    """The `lost-links` trigger of each enabled geography."""
    return geography_triggers(geographies, queue=LOST_LINKS, name="resend_lost_links", handle=_handle)
