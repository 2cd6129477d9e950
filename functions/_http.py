"""The one place that builds HTTP responses: JSON, problem+json errors, redirects and friendly HTML pages.

API callers get `application/problem+json` (RFC 9457); people in a browser get a plain page. Neither ever
carries a stack trace, a secret or a phone number.
"""

from __future__ import annotations

import functools
import html
import json
import logging
from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import azure.functions as func

from shared.core.errors import (
    ConfigurationError,
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    NotFound,
    Unauthenticated,
    Unprocessable,
    UpstreamError,
)

if TYPE_CHECKING:  # pydantic and the SMART client load when a function first runs, not while the app is indexed
    from pydantic import BaseModel, ValidationError

    from shared.smart.client import AuthorizeRedirect

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
_STATUS: dict[type[DomainError], int] = {
    Unprocessable: 422,
    InvalidInput: 400,
    Unauthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    UpstreamError: 502,
    ConfigurationError: 500,
}
_NO_STORE = {"Cache-Control": "no-store"}


def json_response(
    body: BaseModel | Mapping[str, Any] | list[Any], status: int = 200, headers: Mapping[str, str] | None = None
) -> func.HttpResponse:
    from pydantic import BaseModel

    text = body.model_dump_json() if isinstance(body, BaseModel) else json.dumps(body, default=str)
    return func.HttpResponse(
        text, status_code=status, mimetype="application/json", headers={**_NO_STORE, **(headers or {})}
    )


def csv_response(text: str, filename: str) -> func.HttpResponse:
    return func.HttpResponse(
        text,
        mimetype="text/csv",
        charset="utf-8",
        headers={**_NO_STORE, "Content-Disposition": f'attachment; filename="{filename}"'},
    )


def problem(
    status: int, detail: str, *, title: str | None = None, fields: Mapping[str, str] | None = None
) -> func.HttpResponse:
    phrase = HTTPStatus(status).phrase
    body: dict[str, Any] = {
        "type": f"urn:ehr-connector:problem:{phrase.lower().replace(' ', '-')}",
        "title": title or phrase,
        "status": status,
        "detail": detail,
    }
    if fields:
        body["errors"] = [{"field": name, "message": message} for name, message in fields.items()]
    headers = dict(_NO_STORE)
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return func.HttpResponse(json.dumps(body), status_code=status, mimetype=PROBLEM_JSON, headers=headers)


def status_of(error: DomainError) -> int:
    for kind, status in _STATUS.items():
        if isinstance(error, kind):
            return status
    return 500


def error_response(error: DomainError) -> func.HttpResponse:
    fields = error.fields if isinstance(error, InvalidInput) else None
    return problem(status_of(error), error.detail, title=error.title, fields=fields)


def html_page(
    title: str, message: str, status: int = 200, *, back: tuple[str, str] | None = None, lang: str = "en"
) -> func.HttpResponse:
    """A plain page for a person in a browser: what happened and what to do, nothing else (in language `lang`);
    `back` (URL, words) is a way on, so that the page is no dead end."""
    link = f"<p><a href='{html.escape(back[0])}'>{html.escape(back[1])}</a></p>" if back else ""
    page = (
        f"<!doctype html><html lang='{html.escape(lang)}'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(title)}</title>"
        "<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;"
        "line-height:1.5;color:#1b1b1b}h1{font-size:1.4rem}a{color:#0b5394}</style></head>"
        f"<body><main><h1>{html.escape(title)}</h1><p>{html.escape(message)}</p>{link}</main></body></html>"
    )
    return func.HttpResponse(page, status_code=status, mimetype="text/html", charset="utf-8", headers=_NO_STORE)


def redirect(location: str, cookie: str | None = None) -> func.HttpResponse:
    headers = {"Location": location, **_NO_STORE}
    if cookie:
        headers["Set-Cookie"] = cookie
    return func.HttpResponse(status_code=302, headers=headers)


def authorize_response(target: AuthorizeRedirect, cookie: str | None) -> func.HttpResponse:
    """Send the browser to the EHR's authorize endpoint: a redirect, or a page that posts the request as a form
    (the EHR advertises `authorize-post`, or the URL would be too long)."""
    if target.form is None:
        return redirect(target.url, cookie)
    fields = "".join(
        f"<input type='hidden' name='{html.escape(k)}' value='{html.escape(v)}'>" for k, v in target.form.items()
    )
    page = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Signing in to the EHR</title>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'></head>"
        "<body onload='document.forms[0].submit()'>"
        f"<form method='post' action='{html.escape(target.url)}'>{fields}"
        "<noscript><button type='submit'>Continue to the EHR</button></noscript></form></body></html>"
    )
    headers = {"Cache-Control": "no-store", **({"Set-Cookie": cookie} if cookie else {})}
    return func.HttpResponse(page, mimetype="text/html", charset="utf-8", headers=headers)


def state_cookie(state: str, secret: str, path: str, *, secure: bool) -> str:
    """The Set-Cookie value binding an OAuth state to this browser: short-lived, HttpOnly, SameSite=Lax (sent on
    the EHR's top-level redirect back, not on cross-site requests)."""
    from shared.smart.states import LIFETIME, binding_cookie

    flags = "; Secure" if secure else ""
    seconds = int(LIFETIME.total_seconds())
    return f"{binding_cookie(state)}={secret}; Path={path}; Max-Age={seconds}; HttpOnly; SameSite=Lax{flags}"


def forget_state_cookie(response: func.HttpResponse, state: str | None, path: str) -> func.HttpResponse:
    """The state is used up: its browser cookie goes, so that a browser starting many visits does not collect
    them (as another Set-Cookie beside any the response has)."""
    from shared.smart.states import binding_cookie

    if state:
        response.headers.add("Set-Cookie", f"{binding_cookie(state)}=; Path={path}; Max-Age=0; HttpOnly; SameSite=Lax")
    return response


def cookie(req: func.HttpRequest, name: str) -> str | None:
    """The value of one of the request's cookies (None when absent or when the Cookie header is malformed)."""
    from http.cookies import CookieError, SimpleCookie

    cookies: SimpleCookie = SimpleCookie()
    try:
        cookies.load(req.headers.get("cookie") or "")
    except CookieError:
        return None
    return cookies[name].value if name in cookies else None


def browser_secret(req: func.HttpRequest, state: str | None) -> str | None:
    """The secret this browser holds for `state`, from its cookie."""
    from shared.smart.states import binding_cookie

    return cookie(req, binding_cookie(state)) if state else None


MAX_BODY_BYTES = 1024 * 1024


class RequestRejected(DomainError):
    """The HTTP request itself is unacceptable (size, content type); `status` says how."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.title = HTTPStatus(status).phrase


M = TypeVar("M", bound="BaseModel")


def parse_json(req: func.HttpRequest, model: type[M]) -> M:
    """The request body as `model`: 413 over 1 MB, 415 unless JSON, 400 with one message per bad field."""
    body = req.get_body() or b""
    if len(body) > MAX_BODY_BYTES:
        raise RequestRejected(413, "The request body is larger than 1 MB; send less data.")
    content_type = (req.headers.get("content-type") or "").split(";")[0].strip().lower()
    if content_type != "application/json" and not content_type.endswith("+json"):
        raise RequestRejected(415, "Send the request body as JSON (Content-Type: application/json).")
    from pydantic import ValidationError

    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        raise invalid_input(exc) from None


def invalid_input(
    exc: ValidationError, detail: str = "Some fields are missing or invalid; see errors."
) -> InvalidInput:
    """A pydantic validation failure as InvalidInput: one message per field, named by its dotted path."""
    fields: dict[str, str] = {}
    for error in exc.errors(include_url=False):
        name = ".".join(str(part) for part in error["loc"]) or "body"
        if error["type"] == "json_invalid":
            return InvalidInput("The request body is not valid JSON.", {"body": error["msg"]})
        if error["type"] == "extra_forbidden":
            fields[name] = "is not a field of this request"
        else:
            fields.setdefault(name, in_words(error["type"], error.get("ctx") or {}, str(error["msg"])))
    return InvalidInput(detail, fields)


def in_words(kind: str, ctx: Mapping[str, Any], message: str) -> str:
    """A field's validation error as a person reads it next to the field, never pydantic's own words."""
    plural = "s" if ctx.get("min_length") != 1 else ""
    words = {
        "missing": "This is required.",
        "string_too_short": f"Use at least {ctx.get('min_length')} character{plural}.",
        "string_too_long": f"Use at most {ctx.get('max_length')} characters.",
        "too_short": f"Give at least {ctx.get('min_length')}.",
        "too_long": f"Give at most {ctx.get('max_length')}.",
        "string_pattern_mismatch": "This is not in the expected form; see the field's hint.",
        "string_type": "Enter text.",
        "int_type": "Enter a whole number.",
        "int_parsing": "Enter a whole number.",
        "float_type": "Enter a number.",
        "float_parsing": "Enter a number.",
        "bool_type": "Choose yes or no.",
        "bool_parsing": "Choose yes or no.",
        "greater_than": f"Enter more than {ctx.get('gt')}.",
        "greater_than_equal": f"Enter {ctx.get('ge')} or more.",
        "less_than": f"Enter less than {ctx.get('lt')}.",
        "less_than_equal": f"Enter {ctx.get('le')} or less.",
        "enum": f"Choose one of: {ctx.get('expected')}.",
        "literal_error": f"Choose one of: {ctx.get('expected')}.",
        "datetime_type": "Enter a date and time (ISO 8601, with its offset).",
        "datetime_parsing": "Enter a date and time (ISO 8601, with its offset).",
        "datetime_from_date_parsing": "Enter a date and time (ISO 8601, with its offset).",
        "date_type": "Enter a date (YYYY-MM-DD).",
        "date_parsing": "Enter a date (YYYY-MM-DD).",
        "date_from_datetime_parsing": "Enter a date (YYYY-MM-DD).",
        "list_type": "Give a list.",
        "dict_type": "Give an object.",
        "model_type": "Give an object.",
        "model_attributes_type": "Give an object.",
        "url_parsing": "Enter a full web address (https://...).",
        "url_scheme": "Enter a full web address (https://...).",
    }
    if kind in words:
        return words[kind]
    if kind == "value_error":  # our own validators' words
        return message.removeprefix("Value error, ")
    return "This value cannot be used here."


P = ParamSpec("P")


def api_errors(handler: Callable[P, func.HttpResponse]) -> Callable[P, func.HttpResponse]:
    """Turn domain errors into problem+json and anything unexpected into a bare 500."""

    @functools.wraps(handler)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> func.HttpResponse:
        try:
            return handler(*args, **kwargs)
        except RequestRejected as rejected:
            return problem(rejected.status, rejected.detail)
        except DomainError as error:
            if status_of(error) >= 500:
                log.error("%s failed: %s", handler.__name__, type(error).__name__)
            return error_response(error)
        except Exception:
            log.exception("%s failed unexpectedly", handler.__name__)
            return problem(
                500, "Something went wrong on our side; try again, and tell your administrator if it persists."
            )

    return wrapper
