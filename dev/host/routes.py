"""HTTP trigger route templates, matched as the Functions host (ASP.NET Core routing) matches them.

Supported: literal segments (case-insensitive), `{name}`, `{name?}` (optional, last), `{*name}` (catch-all, last),
constraints `int long bool guid alpha double float decimal datetime` and `min(n) max(n) length(n) regex(...)`,
several parameters in one segment (`{name}.{ext}`). Which route is tried first is the host's business (host.py:
by function name, as the Functions host does).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import unquote

_TYPE_PATTERNS = {
    "int": r"-?\d+",
    "long": r"-?\d+",
    "bool": r"(?i:true|false)",
    "guid": r"[0-9A-Fa-f]{8}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{12}",
    "alpha": r"[A-Za-z]+",
    "double": r"-?\d+(?:\.\d+)?",
    "float": r"-?\d+(?:\.\d+)?",
    "decimal": r"-?\d+(?:\.\d+)?",
    "datetime": r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?",
}
_PARAM = re.compile(r"\{(\*?)([A-Za-z_][A-Za-z0-9_]*)((?::[^{}?=]+?(?:\([^)]*\))?)*)(\??)\}")
_CONSTRAINT = re.compile(r":([a-z]+)(?:\(([^)]*)\))?")


class RouteError(ValueError):
    pass


@dataclass
class _Param:
    name: str
    checks: list[tuple[str, str]] = field(default_factory=list)

    def accepts(self, value: str) -> bool:
        for kind, argument in self.checks:
            if kind == "min" and not int(value) >= int(argument):
                return False
            if kind == "max" and not int(value) <= int(argument):
                return False
            if kind == "length" and len(value) != int(argument):
                return False
            if kind == "minlength" and len(value) < int(argument):
                return False
            if kind == "maxlength" and len(value) > int(argument):
                return False
        return True


class RouteTemplate:
    def __init__(self, template: str) -> None:
        self.template = template.strip("/")
        self._params: dict[str, _Param] = {}
        self._group_names: dict[str, str] = {}
        pattern = self._compile(self.template)
        self._regex = re.compile(pattern, re.IGNORECASE | re.DOTALL)  # a value may hold any character

    def _compile(self, template: str) -> str:
        segments = template.split("/") if template else []
        parts: list[str] = []
        for index, segment in enumerate(segments):
            last = index == len(segments) - 1
            matches = list(_PARAM.finditer(segment))
            if not matches:
                parts.append("/" + re.escape(segment))
                continue
            catch_all = any(m.group(1) for m in matches)
            optional = any(m.group(4) for m in matches)
            if (catch_all or optional) and (not last or len(matches) > 1 or matches[0].group(0) != segment):
                raise RouteError(f"{self.template!r}: optional and catch-all parameters must be a whole last segment")
            body = ""
            cursor = 0
            for match in matches:
                body += re.escape(segment[cursor : match.start()])
                cursor = match.end()
                name = match.group(2)
                if name.lower() in (n.lower() for n in self._params):
                    raise RouteError(f"{self.template!r}: parameter {name} appears twice")
                param = _Param(name)
                value_pattern = ".*" if catch_all else "[^/]+"
                for kind, argument in _CONSTRAINT.findall(match.group(3)):
                    if kind in _TYPE_PATTERNS:
                        value_pattern = _TYPE_PATTERNS[kind]
                    elif kind == "regex":
                        value_pattern = f"(?:{argument})"
                    elif kind in {"min", "max", "length", "minlength", "maxlength"}:
                        param.checks.append((kind, argument))
                    else:
                        raise RouteError(f"{self.template!r}: the dev host does not support constraint {kind}")
                group = f"p{len(self._params)}"
                self._params[name] = param
                self._group_names[group] = name
                body += f"(?P<{group}>{value_pattern})"
            body += re.escape(segment[cursor:])
            parts.append(f"(?:/{body})?" if catch_all or optional else "/" + body)
        return "^" + "".join(parts) + r"/?\Z"

    def match(self, path: str) -> dict[str, str] | None:
        """Route parameters for a decoded path (without the route prefix), or None if it does not match."""
        found = self._regex.match("/" + path.strip("/") if path.strip("/") else "")
        if not found:
            return None
        values: dict[str, str] = {}
        for group, name in self._group_names.items():
            value = found.group(group)
            if value is None:
                continue
            if not self._params[name].accepts(value):
                return None
            values[name] = value
        return values


def decode_path(raw_path: str) -> str:
    return "/".join(unquote(segment) for segment in raw_path.split("/"))
