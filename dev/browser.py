"""What a browser does with the connector's answer that sends it to the EHR's authorize endpoint: follow a
redirect, or post the form (an EHR that takes authorize by POST, or a request too long for a URL). Used by
`make demo` and the tests, which play the browser."""

from __future__ import annotations

import html
import re

import httpx

_FORM = re.compile(r"<form method='post' action='([^']*)'")
_FIELD = re.compile(r"<input type='hidden' name='([^']*)' value='([^']*)'>")


def to_ehr(answer: httpx.Response, timeout: float = 10) -> httpx.Response:
    """The EHR's answer to the authorize request our `answer` sends the browser to."""
    if answer.status_code in (302, 303):
        return httpx.get(answer.headers["Location"], follow_redirects=False, timeout=timeout)
    form = _FORM.search(answer.text) if answer.status_code == 200 else None
    if form is None:
        raise ValueError(f"The connector did not send the browser to the EHR (HTTP {answer.status_code}).")
    fields = {html.unescape(name): html.unescape(value) for name, value in _FIELD.findall(answer.text)}
    return httpx.post(html.unescape(form[1]), data=fields, follow_redirects=False, timeout=timeout)
