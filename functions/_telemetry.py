"""A span for every run of a trigger (shared/core/telemetry.py), without loading OpenTelemetry while the Functions
host indexes the app: `@traced` goes under the trigger's decorator, and keeps the function's signature, which the
host binds its arguments by."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

F = TypeVar("F", bound=Callable[..., Any])


def _argument(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    return next(iter(kwargs.values())) if kwargs else (args[0] if args else None)


def traced(handler: F) -> F:
    name = handler.__name__
    if inspect.iscoroutinefunction(handler):

        @functools.wraps(handler)
        async def run_async(*args: Any, **kwargs: Any) -> Any:
            from shared.core.telemetry import record_response, trigger_span

            with trigger_span(name, _argument(args, kwargs)) as span:
                result = await cast(Callable[..., Awaitable[Any]], handler)(*args, **kwargs)
                if hasattr(result, "status_code"):
                    record_response(span, result.status_code)
                return result

        return cast(F, run_async)

    @functools.wraps(handler)
    def run(*args: Any, **kwargs: Any) -> Any:
        from shared.core.telemetry import record_response, trigger_span

        with trigger_span(name, _argument(args, kwargs)) as span:
            result = handler(*args, **kwargs)
            if hasattr(result, "status_code"):
                record_response(span, result.status_code)
            return result

    return cast(F, run)
