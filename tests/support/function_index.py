"""Index function_app as the Python worker does when the Functions host starts a v2 app, and print what the worker
would hand the host, as JSON. Run in a fresh interpreter (`python -m tests.support.function_index`): an app's
functions can be listed only once per process.

After azure-functions-python-worker (MIT; commit 7e6acf36e43335ad69742923af9ff3d62b99242a): its loader.py
`index_function_app` and `process_indexed_function`, and functions.py `Registry.add_indexed_function`. The same
azure.functions calls (`get_functions`, `get_raw_bindings`, `get_bindings`, `get_settings_dict`,
`get_binding_registry`), and the checks that make the worker refuse a function, collected here as messages
instead of raised. The worker itself is not a dependency: the Functions host brings it.
"""

from __future__ import annotations

import importlib
import inspect
import json
import sys
import typing
from typing import Any

import azure.functions as func
from azure.functions.decorators.core import BindingDirection

RETRY_POLICY = "retry_policy"  # the worker's constants.RETRY_POLICY


def find_app(module_name: str) -> func.FunctionRegister:
    """The one FunctionRegister at the module's top level (the worker refuses none, and more than one)."""
    module = importlib.import_module(module_name)
    found = [value for value in vars(module).values() if isinstance(value, func.FunctionRegister)]
    if len(found) != 1:
        raise SystemExit(f"{module_name} defines {len(found)} function apps; the worker needs exactly one")
    return found[0]


def worker_refusals(function: Any) -> list[str]:
    """Why the worker's Registry.add_indexed_function would refuse this function (empty: it loads)."""
    refusals: list[str] = []
    user_function = function.get_user_function()
    params = dict(inspect.signature(user_function).parameters)
    try:
        annotations = typing.get_type_hints(user_function)
    except Exception as error:  # the worker calls get_type_hints too, and fails the same way
        return [f"its annotations do not resolve at run time: {error}"]
    bound: dict[str, Any] = {}
    explicit_return: Any = None
    for binding in function.get_bindings():
        direction = BindingDirection(binding.direction)  # the library hands out the enum's value
        if direction == BindingDirection.INOUT:
            refusals.append('"inout" bindings are not supported')
        if binding.name == "$return":
            if direction != BindingDirection.OUT:
                refusals.append('"$return" binding must have direction set to "out"')
            explicit_return = binding
        else:
            bound[binding.name] = binding
    if "context" in params and "context" not in bound:
        params.pop("context")
        annotation = annotations.get("context")
        if annotation is not None and getattr(annotation, "__name__", None) != "Context":
            refusals.append(f"the context parameter is annotated {annotation!r}, not azure.functions.Context")
    if set(params) != set(bound):
        refusals.append(f"parameters {sorted(params)} do not match bindings {sorted(bound)}")
    registry = func.get_binding_registry()
    for name, binding in bound.items():
        annotation = annotations.get(name)
        if annotation is None or name not in params:
            continue
        kind = "generic" if annotation in (str, bytes) else binding.type
        converter = registry.get(kind)
        if converter is not None and not converter.check_input_type_annotation(annotation):
            refusals.append(f"{name}: annotation {annotation!r} does not match binding type {binding.type}")
    if explicit_return is not None and "return" in annotations:
        returned = annotations["return"]
        converter = registry.get(explicit_return.type)
        if not isinstance(returned, type):
            refusals.append(f"return annotation {returned!r} is not a type")
        elif converter is not None and not converter.check_output_type_annotation(returned):
            refusals.append(f"return annotation {returned.__name__} does not match binding {explicit_return.type}")
    return refusals


def index(module_name: str = "function_app") -> list[dict[str, Any]]:
    app = find_app(module_name)
    return [
        {
            "name": function.get_function_name(),
            "bindings": [json.loads(raw) for raw in function.get_raw_bindings()],
            "retry": function.get_settings_dict(RETRY_POLICY),
            "refusals": worker_refusals(function),
        }
        for function in app.get_functions()
    ]


if __name__ == "__main__":
    json.dump(index(*sys.argv[1:]), sys.stdout)
