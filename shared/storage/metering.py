"""What one storage request is, for the usage counts: the table or queue it touches and its kind, read from the
request as it goes on the wire (so a retry counts again, as Azure bills it).

Kinds: tables `read` (one entity), `query`, `insert`, `upsert` (PUT: replace or insert-or-replace), `merge`,
`delete`, `batch` (one entity group transaction), `create` (a table); queues `put`, `get`, `get-empty` (a receive
that found nothing), `peek`, `delete`, `update`, `clear`, `metadata`, `create` (a queue).
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import parse_qs, unquote, urlsplit

# A batch's parts name their table in each request line: "POST http://host/account/table HTTP/1.1".
_BATCH_PART = re.compile(rb"^(?:POST|PUT|PATCH|MERGE|DELETE|GET) \S*/([A-Za-z][A-Za-z0-9]{2,62})[(?\s]", re.M)
_ENTITY = re.compile(r"^([A-Za-z][A-Za-z0-9]*)\((.*)\)$")


def _path_style(host: str) -> bool:
    """Azurite (and any address-only endpoint) names the account in the path, not in the host."""
    if host == "localhost":
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def operation(service: str, method: str, url: str, body: bytes | None = None) -> tuple[str, str]:
    """(table or queue name, kind) of one request to a table or queue service."""
    parts = urlsplit(url)
    segments = [unquote(s) for s in parts.path.split("/") if s]
    if _path_style(parts.hostname or "") and segments:
        segments = segments[1:]
    method = method.upper()
    if service == "queue":
        return _queue_operation(method, segments, parse_qs(parts.query))
    return _table_operation(method, segments, body)


def _table_operation(method: str, segments: list[str], body: bytes | None) -> tuple[str, str]:
    resource = segments[0] if segments else ""
    if resource == "$batch":
        tables = _BATCH_PART.findall(body or b"")
        return (tables[0].decode() if tables else "$batch"), "batch"
    if resource.startswith("Tables"):
        return "Tables", {"POST": "create", "DELETE": "delete"}.get(method, "query")
    entity = _ENTITY.match(resource)
    name, key = (entity.group(1), entity.group(2)) if entity else (resource, "")
    if method == "GET":
        return name, "read" if key else "query"
    if method == "POST":
        return name, "insert"
    kinds = {"PUT": "upsert", "PATCH": "merge", "MERGE": "merge", "DELETE": "delete"}
    return name, kinds.get(method, method.lower())


def _queue_operation(method: str, segments: list[str], query: dict[str, list[str]]) -> tuple[str, str]:
    name = segments[0] if segments else ""
    if len(segments) == 1:
        if "metadata" in query.get("comp", []):
            return name, "metadata"
        return name, {"PUT": "create", "DELETE": "delete-queue"}.get(method, method.lower())
    if len(segments) == 2:  # <queue>/messages
        if method == "GET":
            return name, "peek" if query.get("peekonly") == ["true"] else "get"
        return name, {"POST": "put", "DELETE": "clear"}.get(method, method.lower())
    return name, {"DELETE": "delete", "PUT": "update"}.get(method, method.lower())
