"""Make `eventgrid_acs_extract.json`: the Event Grid event envelope and the system events the connector takes
(`POST /api/events/sms`: the subscription validation, SMS delivery reports, received SMS), as the Azure SDK's
system event models describe them (generated from the azure-rest-api-specs Event Grid data-plane descriptions).

    npm pack @azure/eventgrid@5.12.0
    python tests/contracts/make_eventgrid_extract.py azure-eventgrid-5.12.0.tgz

The package's serialisation mappers are evaluated with node (already needed for Azurite), which resolves their
inherited properties; the rest is the standard library. Licence: MIT (`eventgrid_acs_extract.LICENSE`)."""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import re
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

OUTPUT = Path(__file__).with_name("eventgrid_acs_extract.json")
ENVELOPE = "EventGridEvent"
EVENTS = (
    "Microsoft.EventGrid.SubscriptionValidationEvent",
    "Microsoft.Communication.SMSDeliveryReportReceived",
    "Microsoft.Communication.SMSReceived",
)
MAPPERS = "package/dist/commonjs/generated/models/mappers.js"
EVENT_TYPES = "package/dist/commonjs/predicates.d.ts"  # the SDK's map of event type -> its data model
DUMP = "const m = require(process.argv[1]); console.log(JSON.stringify(Object.fromEntries("
DUMP += "Object.entries(m).filter(([, v]) => v && v.type && v.type.modelProperties)"
DUMP += ".map(([k, v]) => [k, v.type.modelProperties]))))"


def kind(mapper: dict[str, Any], pending: list[str]) -> str:
    """A property's type: String, DateTime, Number, Boolean, Dictionary, Sequence<...>, or a model's name."""
    name = str(mapper["name"])
    if name == "Sequence":
        return f"Sequence<{kind(mapper['element']['type'], pending)}>"
    if name == "Composite":
        pending.append(mapper["className"])
        return str(mapper["className"])
    return name


def extract(models: dict[str, Any], event_types: str, source: dict[str, str]) -> dict[str, Any]:
    events: dict[str, str] = {}
    for event in EVENTS:
        found = re.search(rf'"{re.escape(event)}":\s*(\w+);', event_types)
        if found is None:
            raise SystemExit(f"{event} is not among the package's system events")
        events[event] = found.group(1)
    pending = [ENVELOPE, *events.values()]
    described: dict[str, dict[str, Any]] = {}
    while pending:
        name = pending.pop()
        if name in described:
            continue
        described[name] = {
            mapper["serializedName"]: {"type": kind(mapper["type"], pending)}
            | {flag: True for flag in ("required", "readOnly") if mapper.get(flag)}
            for mapper in models[name].values()
        }
    return {
        "source": source,
        "envelope": ENVELOPE,
        "events": events,
        "models": dict(sorted(described.items())),
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tarball", type=Path, help="the npm pack of @azure/eventgrid")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    arguments = parser.parse_args(argv)
    raw = arguments.tarball.read_bytes()
    with tempfile.TemporaryDirectory() as unpacked, tarfile.open(arguments.tarball) as archive:
        archive.extractall(unpacked, filter="data")
        package = json.loads((Path(unpacked) / "package/package.json").read_text(encoding="utf-8"))
        dumped = subprocess.run(
            ["node", "-e", DUMP, str(Path(unpacked) / MAPPERS)], check=True, capture_output=True, text=True
        ).stdout
        event_types = (Path(unpacked) / EVENT_TYPES).read_text(encoding="utf-8")
    source = {
        "package": f"npm {package['name']}@{package['version']}",
        "integrity": "sha512-" + base64.b64encode(hashlib.sha512(raw).digest()).decode(),
        "repository": "https://github.com/Azure/azure-sdk-for-js (sdk/eventgrid/eventgrid), generated from "
        "https://github.com/Azure/azure-rest-api-specs (specification/eventgrid/data-plane)",
        "license": f"{package['license']} (eventgrid_acs_extract.LICENSE)",
        "generator": "tests/contracts/make_eventgrid_extract.py",
    }
    extracted = extract(json.loads(dumped), event_types, source)
    arguments.output.write_text(json.dumps(extracted, indent=1) + "\n", encoding="utf-8")
    print(f"{arguments.output}: {len(extracted['models'])} models")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
