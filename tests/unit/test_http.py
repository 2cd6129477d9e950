"""How triggers answer errors: problem+json for API callers, friendly pages for people."""

from __future__ import annotations

import json

import azure.functions as func

from functions._http import api_errors, html_page, problem
from shared.core.errors import Conflict, InvalidInput, NotFound, UpstreamError


def run(error: Exception) -> func.HttpResponse:
    @api_errors
    def handler(req: func.HttpRequest) -> func.HttpResponse:
        raise error

    return handler(func.HttpRequest("GET", "/api/x", body=b""))


def body(response: func.HttpResponse) -> dict[str, object]:
    assert response.mimetype == "application/problem+json"
    data: dict[str, object] = json.loads(response.get_body())
    assert data["status"] == response.status_code
    return data


def test_invalid_input_is_400_with_field_errors() -> None:
    response = run(InvalidInput("The endpoint is not valid.", {"base_url": "must be https"}))
    assert response.status_code == 400
    assert body(response) == {
        "type": "urn:ehr-connector:problem:bad-request",
        "title": "Invalid input",
        "status": 400,
        "detail": "The endpoint is not valid.",
        "errors": [{"field": "base_url", "message": "must be https"}],
    }


def test_domain_errors_map_to_their_status() -> None:
    assert run(NotFound("No such endpoint.")).status_code == 404
    assert run(Conflict("Already exists.")).status_code == 409
    assert run(UpstreamError("The EHR did not answer.")).status_code == 502


def test_unexpected_errors_are_500_without_details() -> None:
    response = run(RuntimeError("password=hunter2 at line 3"))
    assert response.status_code == 500
    assert "hunter2" not in response.get_body().decode()
    assert "try again" in str(body(response)["detail"])


def test_401_problem_carries_a_bearer_challenge() -> None:
    assert problem(401, "Sign in first.").headers["WWW-Authenticate"] == "Bearer"


def test_friendly_page_escapes_text() -> None:
    page = html_page("Link expired", "Ask the clinic for a new <link>.", status=410).get_body().decode()
    assert "&lt;link&gt;" in page and "<link>" not in page


def test_validation_errors_read_as_sentences_not_pydantics_words() -> None:
    from typing import Literal

    from pydantic import BaseModel, ConfigDict, Field, ValidationError

    from functions._http import invalid_input

    class Form(BaseModel):
        model_config = ConfigDict(extra="forbid")
        name: str = Field(min_length=1, max_length=5)
        kind: Literal["test", "prod"]
        minutes: int = Field(ge=1)
        code: str = Field(pattern=r"^[A-Z]{2}$")

    try:
        Form.model_validate({"name": "", "kind": "dev", "minutes": 0, "code": "x", "other": 1})
    except ValidationError as exc:
        fields = invalid_input(exc).fields
    assert fields == {
        "name": "Use at least 1 character.",
        "kind": "Choose one of: 'test' or 'prod'.",
        "minutes": "Enter 1 or more.",
        "code": "This is not in the expected form; see the field's hint.",
        "other": "is not a field of this request",
    }
    missing = Form.model_validate  # a required field left out
    try:
        missing({"kind": "test", "minutes": 1, "code": "AB"})
    except ValidationError as exc:
        assert invalid_input(exc).fields == {"name": "This is required."}
    for message in fields.values():
        assert "should" not in message and "Input" not in message


def test_a_page_can_offer_a_way_back() -> None:
    page = html_page("The EHR sign-in did not complete", "Start again.", 422, back=("/#/endpoints", "Back")).get_body()
    assert b"<a href='/#/endpoints'>Back</a>" in page
