"""The portal API against its own contract: schemathesis reads /api/openapi.json from the dev host and sends what
the document allows and what it forbids, with every check enabled (server errors, status codes, content types,
response schemas and headers, missing auth, undeclared methods, positive and negative data, stateful sequences).

422 is an acceptable answer to schema-valid data: the API answers 400 when a request breaks the document's
constraints and 422 when it keeps them but cannot be used (a range ending before it starts, a certificate that
does not parse, a URL that is not a SMART endpoint, a continuation token that is not ours).

The seed comes from SCHEMATHESIS_SEED (default below), so a failure found once is found again:
`SCHEMATHESIS_SEED=7 .venv/bin/python -m pytest tests/integration/test_api_contract.py`."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from dev.host.serving import ServerThread
from tests.support.portal import Tenant

SEED = os.environ.get("SCHEMATHESIS_SEED", "20261203")
EXAMPLES = os.environ.get("SCHEMATHESIS_EXAMPLES", "25")
CONFIG = """
[checks.positive_data_acceptance]
expected-statuses = ["2xx", "3xx", "401", "403", "404", "409", "422"]
"""


def test_the_api_keeps_its_openapi_contract(app_host: ServerThread, tenant: Tenant, tmp_path: Path) -> None:
    token = tenant.token("admin@northclinic.example", ["Connector.Admin", "Connector.Approver"])
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG)
    command = [
        str(Path(sys.executable).parent / "st"),
        "--config-file",
        str(config),
        "run",
        f"{app_host.url}/api/openapi.json",
        "--checks",
        "all",
        "--seed",
        SEED,
        "--max-examples",
        EXAMPLES,
        "--header",
        f"Authorization: Bearer {token}",
        "--no-color",
        "--request-timeout",
        "30",
    ]
    environment = {**os.environ, "SCHEMATHESIS_HOOKS": "", "NO_COLOR": "1"}
    run = subprocess.run(command, capture_output=True, text=True, timeout=600, env=environment, cwd=tmp_path)
    summary = run.stdout[run.stdout.find("===") :] if "===" in run.stdout else run.stdout
    assert run.returncode == 0, f"seed {SEED}:\n{summary[-12000:]}\n{run.stderr[-2000:]}"
    # Every operation of the document was tested, in every phase, and every generated case passed.
    from functions.portal.router import all_routes

    assert re.search(rf"Tested: {len(all_routes())}\b", run.stdout), summary
    for phase in ("Coverage", "Fuzzing", "Stateful"):
        assert f"\u2705 {phase}" in run.stdout, summary
    generated = re.search(r"(\d+) generated, (\d+) passed", run.stdout)
    assert generated is not None and generated[1] == generated[2] and int(generated[1]) > 1000, summary
