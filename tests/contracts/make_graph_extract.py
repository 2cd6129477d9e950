"""Make `graph_v1_extract.json` from Microsoft Graph's published v1.0 metadata (the CSDL the SDKs are generated
from), keeping only what the connector calls: the entity sets and singletons its paths start from, the navigation
properties they follow, the bound actions and functions they end with, and every type their bodies, answers and
change notifications use (with base types, the derived types an `@odata.type` may name, and enums).

    python tests/contracts/make_graph_extract.py schemas/v1.0-Prod.csdl --commit <msgraph-metadata commit>

The CSDL is `schemas/v1.0-Prod.csdl` of github.com/microsoftgraph/msgraph-metadata (MIT, see
`graph_v1_extract.LICENSE`). Standard library only, so regenerating it needs nothing installed."""

from __future__ import annotations

import argparse
import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

EDM = "{http://docs.oasis-open.org/odata/ns/edm}"
OUTPUT = Path(__file__).with_name("graph_v1_extract.json")

# Where the connector's paths start (users/{organizer}/onlineMeetings, subscriptions, communications/callRecords).
CONTAINER = ("users", "subscriptions", "communications")
# The navigation properties its paths follow; an entity type reached through one is kept whole.
NAVIGATION = (
    ("microsoft.graph.user", "onlineMeetings"),
    ("microsoft.graph.cloudCommunications", "onlineMeetings"),
    ("microsoft.graph.cloudCommunications", "callRecords"),
    ("microsoft.graph.callRecords.callRecord", "sessions"),
    ("microsoft.graph.callRecords.session", "segments"),
)
# The bound operations its paths end with (Virtual Appointment join URLs: issue 34 item 2).
OPERATIONS = ("createOrGet", "getVirtualAppointmentJoinWebUrl")
# Types used as a whole, not through a path: change notifications (the webhooks' payloads).
ROOTS = ("microsoft.graph.changeNotificationCollection", "microsoft.graph.subscription")


class Metadata:
    def __init__(self, root: ET.Element) -> None:
        self.aliases: dict[str, str] = {}
        self.types: dict[str, ET.Element] = {}
        self.operations: list[tuple[str, ET.Element]] = []
        self.container: dict[str, tuple[str, str]] = {}
        schemas = list(root.iter(f"{EDM}Schema"))
        for schema in schemas:
            if schema.get("Alias"):
                self.aliases[schema.attrib["Alias"]] = schema.attrib["Namespace"]
        for schema in schemas:
            namespace = schema.attrib["Namespace"]
            for element in schema:
                tag = element.tag.removeprefix(EDM)
                if tag in ("EntityType", "ComplexType", "EnumType"):
                    self.types[f"{namespace}.{element.attrib['Name']}"] = element
                elif tag in ("Action", "Function"):
                    self.operations.append((namespace, element))
                elif tag == "EntityContainer":
                    for member in element:
                        kind = member.tag.removeprefix(EDM)
                        if kind in ("EntitySet", "Singleton"):
                            target = member.get("EntityType") or member.attrib["Type"]
                            self.container[member.attrib["Name"]] = (kind, self.name(target))

    def name(self, written: str) -> str:
        """A type's full name, whatever alias the CSDL wrote it with (`Collection(...)` kept)."""
        if written.startswith("Collection(") and written.endswith(")"):
            return f"Collection({self.name(written[11:-1])})"
        head, _, tail = written.rpartition(".")
        return f"{self.aliases.get(head, head)}.{tail}" if head else written


def element_type(written: str) -> str:
    return written[11:-1] if written.startswith("Collection(") else written


def extract(metadata: Metadata, commit: str) -> dict[str, Any]:
    types: dict[str, dict[str, Any]] = {}
    enums: dict[str, dict[str, Any]] = {}
    pending: list[str] = [*ROOTS]
    followed = set(NAVIGATION)
    for name in CONTAINER:
        pending.append(metadata.container[name][1])

    def describe(name: str, element: ET.Element) -> dict[str, Any]:
        described: dict[str, Any] = {"kind": element.tag.removeprefix(EDM)}
        if element.get("BaseType"):
            described["base"] = metadata.name(element.attrib["BaseType"])
            pending.append(described["base"])
        for flag in ("Abstract", "OpenType"):
            if element.get(flag) == "true":
                described[flag[0].lower() + flag[1:]] = True
        properties: dict[str, Any] = {}
        navigation: dict[str, Any] = {}
        for member in element:
            tag = member.tag.removeprefix(EDM)
            if tag not in ("Property", "NavigationProperty"):
                continue
            written = metadata.name(member.attrib["Type"])
            entry: dict[str, Any] = {"type": written}
            if member.get("Nullable") == "false":
                entry["nullable"] = False
            if tag == "Property":
                properties[member.attrib["Name"]] = entry
                pending.append(element_type(written))
            else:
                navigation[member.attrib["Name"]] = entry
                if (name, member.attrib["Name"]) in followed:
                    pending.append(element_type(written))
        described["properties"] = properties
        if navigation:
            described["navigation"] = navigation
        return described

    operations: list[dict[str, Any]] = []
    for namespace, element in metadata.operations:
        if element.attrib["Name"] not in OPERATIONS or element.get("IsBound") != "true":
            continue
        parameters = [p for p in element if p.tag == f"{EDM}Parameter"]
        returns = next((r for r in element if r.tag == f"{EDM}ReturnType"), None)
        operation: dict[str, Any] = {
            "kind": element.tag.removeprefix(EDM),
            "name": f"{namespace}.{element.attrib['Name']}",
            "binding": metadata.name(parameters[0].attrib["Type"]),
            "parameters": {
                p.attrib["Name"]: {"type": metadata.name(p.attrib["Type"])}
                | ({"nullable": False} if p.get("Nullable") == "false" else {})
                for p in parameters[1:]
            },
        }
        if returns is not None:
            operation["returns"] = metadata.name(returns.attrib["Type"])
            pending.append(element_type(operation["returns"]))
        pending.extend(element_type(p["type"]) for p in operation["parameters"].values())
        operations.append(operation)

    while pending:
        name = pending.pop()
        if name.startswith("Edm.") or name in types or name in enums:
            continue
        element = metadata.types[name]
        if element.tag == f"{EDM}EnumType":
            enums[name] = {
                "members": [m.attrib["Name"] for m in element if m.tag == f"{EDM}Member"],
                **({"flags": True} if element.get("IsFlags") == "true" else {}),
            }
            continue
        types[name] = describe(name, element)
        if element.tag == f"{EDM}ComplexType":
            # The derived types an `@odata.type` in a payload may name in this type's place.
            pending.extend(
                derived
                for derived, other in metadata.types.items()
                if other.get("BaseType") and metadata.name(other.attrib["BaseType"]) == name
            )

    return {
        "source": {
            "repository": "https://github.com/microsoftgraph/msgraph-metadata",
            "path": "schemas/v1.0-Prod.csdl",
            "commit": commit,
            "license": "MIT (graph_v1_extract.LICENSE)",
            "generator": "tests/contracts/make_graph_extract.py",
        },
        "container": {
            name: {"kind": metadata.container[name][0], "type": metadata.container[name][1]} for name in CONTAINER
        },
        "operations": sorted(operations, key=lambda o: (o["name"], o["binding"])),
        "types": dict(sorted(types.items())),
        "enums": dict(sorted(enums.items())),
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csdl", type=Path, help="schemas/v1.0-Prod.csdl of microsoftgraph/msgraph-metadata")
    parser.add_argument("--commit", required=True, help="the msgraph-metadata commit the CSDL comes from")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    arguments = parser.parse_args(argv)
    metadata = Metadata(ET.parse(arguments.csdl).getroot())
    extracted = extract(metadata, arguments.commit)
    arguments.output.write_text(json.dumps(extracted, indent=1, sort_keys=False) + "\n", encoding="utf-8")
    print(f"{arguments.output}: {len(extracted['types'])} types, {len(extracted['enums'])} enums")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
