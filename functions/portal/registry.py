"""The portal API's one route registry. A route declares its auth, its body model and its response model; the
registry authenticates the caller, parses the body, hands the handler both in a `Call`, projects what the
handler returns onto the response model, and turns errors into problem+json. The OpenAPI document is built
from the same declarations (openapi.py)."""

from __future__ import annotations

import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

import azure.functions as func
from pydantic import BaseModel, ValidationError

from functions._http import api_errors, cookie, html_page, invalid_input, json_response, parse_json
from functions.portal.openapi import ApiRoute, Auth
from shared.auth.principal import Principal
from shared.core.errors import InvalidInput, Unauthenticated
from shared.runtime import Runtime, get_runtime
from shared.visits.sessions import COOKIE, VisitSession

B = TypeVar("B")
Q = TypeVar("Q", bound=BaseModel)
ResponseKind = Literal["json", "empty", "redirect", "any"]


@dataclass(frozen=True)
class Call(Generic[B]):
    """What a handler gets: the request, the worker's runtime, the parsed body and who is calling."""

    req: func.HttpRequest
    runtime: Runtime
    body: B
    caller: Principal | None = None
    session: VisitSession | None = None
    """With auth="visit": the clinician's visit session, when the cookie (and no bearer token) came."""
    parameters: BaseModel | None = None
    """The path and query parameters, checked against the route's `parameters` model."""

    def checked(self, model: type[Q]) -> Q:
        """The parameters as the route's model (checked before the handler runs)."""
        if not isinstance(self.parameters, model):
            raise TypeError(f"the route does not declare parameters={model.__name__}")
        return self.parameters

    @property
    def principal(self) -> Principal:
        if self.caller is None:
            raise Unauthenticated("Sign in to the portal first.")
        return self.caller

    def param(self, name: str) -> str:
        """A route parameter (always present: the route matched)."""
        value: str = self.req.route_params[name]
        return value

    def query(self, name: str) -> str | None:
        value: str | None = self.req.params.get(name)
        return value


@dataclass(frozen=True)
class Reply:
    """A handler's answer with headers besides the body (a job's Location, say)."""

    body: Any
    headers: Mapping[str, str] = field(default_factory=dict)


def project(value: Any, model: type[BaseModel]) -> BaseModel:
    """A service's result as the route's response model: as it is, through the model's `of`, item by item for
    an `items` list, or field by field from the value's attributes."""
    if isinstance(value, model):
        return value
    of = getattr(model, "of", None)
    if callable(of):
        return of(value)  # type: ignore[no-any-return]
    if isinstance(value, list) and "items" in model.model_fields:
        (item_model,) = typing.get_args(model.model_fields["items"].annotation)
        return model(items=[project(item, item_model) for item in value])
    return model.model_validate(value, from_attributes=True)


def _visit_session(req: func.HttpRequest, runtime: Runtime, *, cookie_only: bool = False) -> VisitSession | None:
    """The visit_session cookie's session, when there is no bearer token (or whatever the headers, `cookie_only`)."""
    if req.headers.get("authorization") and not cookie_only:
        return None
    token = cookie(req, COOKIE)
    return runtime.visits.sessions.verify(token) if token is not None else None


class PortalApi:
    def __init__(self) -> None:
        self.routes: list[ApiRoute] = []
        self._triggers: dict[str, Callable[[func.HttpRequest], func.HttpResponse]] = {}

    def trigger(self, route: ApiRoute) -> Callable[[func.HttpRequest], func.HttpResponse]:
        """What answers a request for `route` (its path parameters in `route_params`)."""
        return self._triggers[route.function_name]

    def route(
        self,
        method: str,
        route: str,
        *,
        summary: str,
        tag: str,
        auth: Auth = "bearer",
        request: type[BaseModel] | None = None,
        response: type[BaseModel] | None = None,
        status: int = 200,
        errors: tuple[int, ...] = (),
        description: str = "",
        response_kind: ResponseKind = "json",
        parameters: type[BaseModel] | None = None,
        errors_as: Literal["problem", "html"] = "problem",
        advice: str = "",
        also_csv: bool = False,
    ) -> Callable[[Callable[[Call[Any]], Any]], Any]:
        """`advice`: with errors_as="html", what the page for a bad address tells the person to do."""

        def register(handler: Callable[[Call[Any]], Any]) -> Any:
            # 404 for every route: the router's answer to a path no route matches is problem+json as well.
            standard: tuple[int, ...] = (400, 404) if auth == "none" else (400, 401, 403, 404)
            if request is not None or parameters is not None:
                standard += (422,)  # well formed, but not usable together or in substance
            declared = ApiRoute(
                function_name=handler.__name__,
                method=method.upper(),
                route=route,
                summary=summary,
                tag=tag,
                auth=auth,
                request=request,
                response=response,
                status=status,
                errors=tuple(sorted(set(standard + errors + ((413, 415) if request else ())))),
                description=description,
                response_kind=response_kind,
                parameters=parameters,
                errors_as=errors_as,
                also_csv=also_csv,
            )
            if declared.function_name in self._triggers:
                raise ValueError(f"Two portal routes are named {declared.function_name}")
            self.routes.append(declared)
            self._triggers[declared.function_name] = api_errors(_trigger(declared, handler, advice))
            return handler

        return register


def _trigger(
    route: ApiRoute, handler: Callable[[Call[Any]], Any], advice: str = ""
) -> Callable[[func.HttpRequest], func.HttpResponse]:
    def trigger(req: func.HttpRequest) -> func.HttpResponse:
        runtime = get_runtime()
        caller: Principal | None = None
        session: VisitSession | None = None
        if route.auth == "visit":
            session = _visit_session(req, runtime)
        elif route.auth == "session":  # a page: it answers a missing or stale session itself
            try:
                session = _visit_session(req, runtime, cookie_only=True)
            except Unauthenticated:
                session = None
        if route.auth in ("bearer", "visit") and session is None:
            caller = runtime.platform.portal_auth.authenticate(req.headers)
        parameters: BaseModel | None = None
        if route.parameters is not None:
            try:
                parameters = check_parameters(req, route.parameters)
            except InvalidInput as bad:
                if route.errors_as != "html":
                    raise
                names = ", ".join(bad.fields)
                detail = f"This address is incomplete or was changed ({names}). {advice}".strip()
                return html_page("This link cannot be used", detail, status=400)
        body = parse_json(req, route.request) if route.request is not None else None
        answer = handler(
            Call(req=req, runtime=runtime, body=body, caller=caller, session=session, parameters=parameters)
        )
        return _respond(route, answer)

    # Logs of a failure (api_errors) name the handler.
    trigger.__name__ = trigger.__qualname__ = handler.__name__
    trigger.__doc__, trigger.__module__ = handler.__doc__, handler.__module__
    return trigger


def check_parameters(req: func.HttpRequest, model: type[BaseModel]) -> BaseModel:
    """The path and query parameters as the route declares them, or a 400 naming each bad one."""
    values: dict[str, str] = {name: value for name, value in req.params.items() if name in model.model_fields}
    values.update({name: value for name, value in req.route_params.items() if name in model.model_fields})
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        raise invalid_input(exc, "Some parameters are invalid; see errors.") from None


def _respond(route: ApiRoute, answer: Any) -> func.HttpResponse:
    if isinstance(answer, func.HttpResponse):
        return answer
    if route.response_kind == "empty":
        return func.HttpResponse(status_code=route.status)
    headers: Mapping[str, str] = {}
    if isinstance(answer, Reply):
        answer, headers = answer.body, answer.headers
    body = project(answer, route.response) if route.response is not None else answer
    return json_response(body, status=route.status, headers=headers)


api = PortalApi()
"""The portal API: every resource module declares its routes here."""
