"""Vendor SchemaStore's host.json schema (what editors and `func` validate host.json with) and its licence.

Usage: python -m tests.contracts.functions_host.regenerate <SchemaStore/schemastore git dir> [revision]
(`git clone --bare https://github.com/SchemaStore/schemastore` gives one; the revision defaults to HEAD).
"""

from __future__ import annotations

import sys
from pathlib import Path

from tests.contracts.upstream import resolve, show, write_source

HERE = Path(__file__).resolve().parent
SCHEMA_PATH = "src/schemas/json/host.json"


def main(argv: list[str]) -> None:
    git_dir = Path(argv[0])
    commit = resolve(git_dir, argv[1] if len(argv) > 1 else "HEAD")
    (HERE / "host.schema.json").write_bytes(show(git_dir, commit, SCHEMA_PATH))
    (HERE / "LICENSE").write_bytes(show(git_dir, commit, "LICENSE"))
    write_source(
        HERE,
        repository="https://github.com/SchemaStore/schemastore",
        commit=commit,
        paths=[SCHEMA_PATH],
        license_id="Apache-2.0",
    )


if __name__ == "__main__":
    main(sys.argv[1:])
