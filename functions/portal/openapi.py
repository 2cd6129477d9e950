"""An OpenAPI 3.1 document built from the routes' declarations and their pydantic models.

Routes declare themselves with `PortalApi.route(...)` (registry.py), which registers the HTTP trigger and
records its contract, so the document cannot drift from what is served.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

_PARAM = re.compile(r"\{\*?([A-Za-z_][A-Za-z0-9_]*)[^}]*\}")
Auth = Literal["bearer", "visit", "none"]
"""bearer: a portal access token; visit: the visit_session cookie of an EHR launch, or a portal access token;
none: anonymous."""


class FieldError(BaseModel):
    field: str
    message: str


class ProblemDetails(BaseModel):
    """RFC 9457 problem details, the body of every API error."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = None


@dataclass(frozen=True)
class ApiRoute:
    function_name: str
    method: str
    route: str
    summary: str
    tag: str
    auth: Auth
    request: type[BaseModel] | None
    response: type[BaseModel] | None
    status: int
    errors: tuple[int, ...]
    query: tuple[tuple[str, str], ...]
    description: str = ""
    response_kind: Literal["json", "empty", "redirect", "any"] = "json"

    @property
    def openapi_path(self) -> str:
        return "/api/" + _PARAM.sub(lambda m: "{" + m.group(1) + "}", self.route)

    @property
    def path_parameters(self) -> list[str]:
        return _PARAM.findall(self.route)


def build_document(routes: list[ApiRoute], *, title: str, version: str, server: str) -> dict[str, Any]:
    models: set[type[BaseModel]] = {ProblemDetails}
    for route in routes:
        models.update(m for m in (route.request, route.response) if m is not None)
    ordered = sorted(models, key=lambda m: m.__name__)
    _, definitions = models_json_schema(
        [(model, "validation") for model in ordered], ref_template="#/components/schemas/{model}"
    )
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}}
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        parameters: list[dict[str, Any]] = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in route.path_parameters
        ]
        parameters += [
            {"name": name, "in": "query", "required": False, "schema": {"type": "string"}, "description": text}
            for name, text in route.query
        ]
        success: dict[str, Any] = {"description": HTTPStatus(route.status).phrase}
        if route.response is not None:
            success["content"] = {
                "application/json": {"schema": {"$ref": f"#/components/schemas/{route.response.__name__}"}}
            }
        elif route.response_kind == "redirect":
            success["headers"] = {"Location": {"schema": {"type": "string"}}}
        responses: dict[str, Any] = {str(route.status): success}
        for status in route.errors:
            responses[str(status)] = {"description": HTTPStatus(status).phrase, "content": problem}
        operation: dict[str, Any] = {
            "operationId": route.function_name,
            "summary": route.summary,
            "tags": [route.tag],
            "parameters": parameters,
            "responses": responses,
            "security": [] if route.auth == "none" else [{"bearer": []}],
        }
        if route.description:
            operation["description"] = route.description
        if route.request is not None:
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{route.request.__name__}"}}},
            }
        paths.setdefault(route.openapi_path, {})[route.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "servers": [{"url": server}],
        "paths": paths,
        "components": {
            "schemas": definitions.get("$defs", {}),
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "An Entra ID access token for the connector's API, with the Connector.Admin "
                    "or Connector.Approver app role.",
                }
            },
        },
    }
