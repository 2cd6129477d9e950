"""`python -m ops`: operator commands against a deployment, signed in as the operator (DefaultAzureCredential)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from shared.core.identity import CredentialFactory
from shared.secrets import SecretStore

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential
    from azure.storage.blob import ContainerClient

    from ops.backup import Storage


def _rotate(args: argparse.Namespace, vault: Callable[[str], SecretStore]) -> int:
    from ops.keys import rotate_join_link_key

    rotation = rotate_join_link_key(vault(args.vault))
    print(
        f"join-link-key rotated: new key {rotation.current_kid}, previous key {rotation.previous_kid} still accepted.\n"
        "Instances pick the new key within SECRET_CACHE_SECONDS; links signed before the previous rotation no "
        "longer work."
    )
    return 0


def _storage(args: argparse.Namespace) -> tuple[Storage, ContainerClient]:
    from ops.backup import Storage, account, container

    credential = _operator_credential()
    geographies = dict(args.geography or [])
    for entry in json.loads(args.data_storage_accounts or "[]"):  # azd's DATA_STORAGE_ACCOUNTS output
        geographies[str(entry["geography"]).upper()] = str(entry["name"])
    accounts = {g: account(g, name, credential, args.storage_suffix) for g, name in geographies.items()}
    storage = Storage(account("app", args.storage, credential, args.storage_suffix), accounts, args.table_prefix)
    return storage, container(args.backup_account or args.storage, args.container, credential, args.storage_suffix)


def _operator_credential() -> CredentialFactory:
    made: list[TokenCredential] = []

    def credential() -> TokenCredential:
        if not made:
            from azure.identity import DefaultAzureCredential

            made.append(DefaultAzureCredential())
        return made[0]

    return credential


def _backup(args: argparse.Namespace, vault: Callable[[str], SecretStore]) -> int:
    from ops.backup import backup

    storage, target = _storage(args)
    name, counts = backup(storage, target, datetime.now(UTC))
    print(f"Backed up to {args.container}/{name}:")
    for table, rows in counts.items():
        print(f"  {table}: {rows} rows")
    return 0


def _restore(args: argparse.Namespace, vault: Callable[[str], SecretStore]) -> int:
    from ops.backup import NotEmpty, latest, restore

    storage, source = _storage(args)
    name = latest(source) if args.source == "latest" else args.source
    try:
        counts = restore(storage, source, name, overwrite=args.overwrite)
    except NotEmpty as refused:
        print(f"python -m ops restore: {refused}", file=sys.stderr)
        return 2
    print(f"Restored {args.container}/{name}:")
    for table, rows in counts.items():
        print(f"  {table}: {rows} rows")
    return 0


def _geography(text: str) -> tuple[str, str]:
    geography, _, name = text.partition("=")
    if not name:
        raise argparse.ArgumentTypeError("give GEOGRAPHY=ACCOUNT, e.g. US=vvprodabc123us")
    return geography.upper(), name


def _storage_options(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--storage", required=True, help="the app's storage account (azd env get-value APP_STORAGE_ACCOUNT)"
    )
    command.add_argument(
        "--data-storage-accounts",
        help="each geography's data account, as azd's DATA_STORAGE_ACCOUNTS output (a JSON list)",
    )
    command.add_argument(
        "--geography", type=_geography, action="append", help="a geography's data account, GEOGRAPHY=ACCOUNT"
    )
    command.add_argument("--table-prefix", default="", help="the deployment's TABLE_PREFIX (default none)")
    command.add_argument("--container", default="backups", help="the blob container of backups (default backups)")
    command.add_argument("--backup-account", help="the storage account of that container (default --storage)")
    command.add_argument(
        "--storage-suffix", default="core.windows.net", help="storage endpoints' DNS suffix (default core.windows.net)"
    )


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
    backup = commands.add_parser(
        "backup",
        help="copy the control plane (and opt-outs, clinicians' links) to a blob container",
        description="Writes the control plane's tables, and each geography's opt-outs and clinicians' Microsoft "
        "365 links, to one blob (control-plane-<UTC time>.json.gz). Needs Storage Table Data Reader on the "
        "accounts and Storage Blob Data Contributor on the container's.",
    )
    _storage_options(backup)
    backup.set_defaults(run=_backup)
    restore = commands.add_parser(
        "restore",
        help="write a backup's rows back into (empty) storage",
        description="Writes a backup's rows back as they were stored. Refuses when the storage already holds "
        "organisations, unless --overwrite. Needs Storage Table Data Contributor on the accounts.",
    )
    _storage_options(restore)
    restore.add_argument(
        "--from", dest="source", default="latest", help="the backup's blob name (default latest: the newest)"
    )
    restore.add_argument("--overwrite", action="store_true", help="restore over existing rows (newer ones are lost)")
    restore.set_defaults(run=_restore)
    return root


def main(argv: list[str] | None = None, *, vault: Callable[[str], SecretStore] | None = None) -> int:
    """`vault` connects to a vault by name or URL (tests hand in their stub's)."""
    from ops.keys import connect

    args = parser().parse_args(argv)
    run: Callable[[argparse.Namespace, Callable[[str], SecretStore]], int] = args.run
    return run(args, vault or connect)


if __name__ == "__main__":
    sys.exit(main())
