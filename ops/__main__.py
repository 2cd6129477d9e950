"""`python -m ops`: operator commands against a deployment, signed in as the operator (DefaultAzureCredential)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from shared.secrets import SecretStore


def _rotate(args: argparse.Namespace, vault: Callable[[str], SecretStore]) -> int:
    from ops.keys import rotate_join_link_key

    rotation = rotate_join_link_key(vault(args.vault))
    print(
        f"join-link-key rotated: new key {rotation.current_kid}, previous key {rotation.previous_kid} still accepted.\n"
        "Instances pick the new key within SECRET_CACHE_SECONDS; links signed before the previous rotation no "
        "longer work."
    )
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m ops", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True, metavar="command")
    rotate = commands.add_parser(
        "rotate-join-link-key",
        help="make a new join-link key; the current one becomes join-link-key-previous (still accepted)",
        description="Moves join-link-key to join-link-key-previous and writes a new join-link-key. Links and visit "
        "sessions signed with either keep working; those signed with the key that was previous stop. The opt-out "
        "key is never rotated (its hashes cannot be re-keyed without the numbers, which are not kept).",
    )
    rotate.add_argument("--vault", required=True, help="the key vault's name (azd env get-value KEY_VAULT_NAME) or URL")
    rotate.set_defaults(run=_rotate)
    return root


def main(argv: list[str] | None = None, *, vault: Callable[[str], SecretStore] | None = None) -> int:
    """`vault` connects to a vault by name or URL (tests hand in their stub's)."""
    from ops.keys import connect

    args = parser().parse_args(argv)
    run: Callable[[argparse.Namespace, Callable[[str], SecretStore]], int] = args.run
    return run(args, vault or connect)


if __name__ == "__main__":
    sys.exit(main())
