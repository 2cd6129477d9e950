"""The post-visit survey page, for patients: `GET /api/survey?lang=..#{token}` shows its two questions (in the
language the text's link names, else the browser's) and `POST /api/survey` keeps the answers. A wrong or missing
answer shows the questions again with what to do; every other outcome is a plain page in the patient's language."""

from __future__ import annotations

import base64
import hashlib
import html
import re
from functools import cache
from pathlib import Path
from urllib.parse import parse_qs

import azure.functions as func

from functions._http import html_page
from functions._telemetry import traced
from shared.core.i18n import N_, html_lang, localize, translate
from shared.core.locales import DEFAULT_LOCALE, locale_for_accept_language, locale_for_language
from shared.runtime import get_runtime

bp = func.Blueprint()
PAGE = Path(__file__).parent / "pages" / "survey.html"
TOKEN = re.compile(r"[A-Za-z0-9_.-]{16,1000}")
MISSING = N_("Choose a rating from 1 to 5 and yes or no, then send your answers.")
SAID: dict[str, tuple[str, str, int]] = {
    "saved": (N_("Thank you"), N_("Your answers were saved. You can close this page."), 200),
    "already": (
        N_("Already answered"),
        N_("This survey was answered already, so it cannot be changed. Thank you."),
        409,
    ),
    "closed": (
        N_("This survey has closed"),
        N_("Surveys can be answered for two weeks after the visit. Thank you."),
        410,
    ),
    "invalid": (
        N_("This link cannot be used"),
        N_("This survey link is not valid. Open the link from your clinic's text message again."),
        400,
    ),
}


@cache
def _page(locale: str) -> tuple[str, str]:
    """The page in `locale`, and its Content-Security-Policy: its own script and style, by hash, nothing else."""
    page = localize(PAGE.read_text(encoding="utf-8"), locale)

    def digest(tag: str) -> str:
        inline = page.split(f"<{tag}>", 1)[1].split(f"</{tag}>", 1)[0]
        return "'sha256-" + base64.b64encode(hashlib.sha256(inline.encode()).digest()).decode() + "'"

    policy = (
        f"default-src 'none'; script-src {digest('script')}; style-src {digest('style')}; "
        "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    )
    return page, policy


def _form(locale: str, *, token: str = "", error: str = "", status: int = 200) -> func.HttpResponse:
    page, policy = _page(locale)
    page = page.replace("{{token}}", html.escape(token, quote=True)).replace("{{error}}", html.escape(error))
    headers = {"Content-Security-Policy": policy, "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}
    return func.HttpResponse(page, status_code=status, mimetype="text/html", charset="utf-8", headers=headers)


def _browser_locale(req: func.HttpRequest) -> str:
    asked = locale_for_language(req.params.get("lang", "")[:10]) if req.params.get("lang") else None
    return asked or locale_for_accept_language(req.headers.get("accept-language")) or DEFAULT_LOCALE


@bp.route(route="survey", methods=["GET", "POST"], auth_level=func.AuthLevel.ANONYMOUS)
@traced
def survey(req: func.HttpRequest) -> func.HttpResponse:
    locale = _browser_locale(req)
    if req.method == "GET":
        return _form(locale)
    body = req.get_body() or b""
    fields = parse_qs(body.decode("utf-8", "replace")) if len(body) <= 4096 else {}
    token, rating, again = (fields.get(name, [""])[0] for name in ("token", "rating", "again"))
    surveys = get_runtime().messaging.surveys
    if not TOKEN.fullmatch(token):
        return _said("invalid", locale)
    if rating not in ("1", "2", "3", "4", "5") or again not in ("yes", "no"):
        locale = surveys.locale_of(token) or locale
        return _form(locale, token=token, error=translate(locale, MISSING), status=422)
    answered = surveys.answer(token, int(rating), again == "yes")
    return _said(answered.outcome, answered.locale or locale)


def _said(outcome: str, locale: str) -> func.HttpResponse:
    title, message, status = SAID[outcome]
    return html_page(translate(locale, title), translate(locale, message), status, lang=html_lang(locale))
