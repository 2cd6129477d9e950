"""Reading a vendored contract's upstream: a git checkout (or bare mirror) of the publishing repository, so that
an extract is regenerated from an exact commit and says which one."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path


def resolve(git_dir: Path, revision: str) -> str:
    """The full commit hash a revision names."""
    return _git(git_dir, "rev-parse", f"{revision}^{{commit}}").decode().strip()


def show(git_dir: Path, commit: str, path: str) -> bytes:
    """One file's bytes at a commit."""
    return _git(git_dir, "show", f"{commit}:{path}")


def write_source(folder: Path, *, repository: str, commit: str, paths: list[str], license_id: str) -> None:
    """SOURCE.json: where the extract beside it comes from and under which licence (LICENSE, copied as it is)."""
    source = {"repository": repository, "commit": commit, "paths": paths, "license": license_id}
    (folder / "SOURCE.json").write_text(json.dumps(source, indent=2) + "\n")


def _git(git_dir: Path, *args: str) -> bytes:
    return subprocess.run(["git", f"--git-dir={git_dir}", *args], check=True, capture_output=True).stdout
