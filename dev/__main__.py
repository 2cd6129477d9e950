"""`python -m dev`: the local runtime. Loads local.settings.json, starts Azurite unless a storage connection is
configured, and serves the function app and web/ on http://localhost:7071."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import secrets
import signal
import sys
import threading
from pathlib import Path

from dev.azurite import Azurite
from dev.host import DevHost, HostConfig, HostKeys
from dev.local_settings import apply_values, load_values
from dev.serving import ServerThread
from shared.settings import Geography

ROOT = Path(__file__).resolve().parent.parent
ACCOUNTS = {"AzureWebJobsStorage": "connectorapp"} | {
    f"DATA_STORAGE_{g.value}": f"connector{g.value.lower()}" for g in Geography
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dev", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7071)
    parser.add_argument("--settings", type=Path, default=ROOT / "local.settings.json")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("azure").setLevel(logging.WARNING)  # as host.json's "Azure.Core": "Warning"

    settings_file = args.settings if args.settings.exists() else ROOT / "local.settings.sample.json"
    apply_values(load_values(settings_file), os.environ)

    azurite: Azurite | None = None
    if not os.environ.get("AzureWebJobsStorage") and not os.environ.get("AzureWebJobsStorage__accountName"):
        azurite = Azurite().start()
        for setting, account in ACCOUNTS.items():
            if not os.environ.get(setting):
                os.environ[setting] = azurite.connection_string(account)

    keys = HostKeys(
        function_keys=(os.environ.get("DEV_HOST_FUNCTION_KEY") or secrets.token_urlsafe(24),),
        master_key=os.environ.get("DEV_HOST_MASTER_KEY") or secrets.token_urlsafe(24),
    )
    try:
        sys.path.insert(0, str(ROOT))
        function_app = importlib.import_module("function_app")
        host = DevHost(
            function_app.app,
            keys=keys,
            environ=os.environ,
            config=HostConfig.load(ROOT / "host.json"),
            web_dir=ROOT / "web",
        )
        server = ServerThread(
            host.web_application(),
            host=args.host,
            port=args.port,
            tasks=[host.timers.run_forever, host.queues.run_forever],
        ).start()
    except Exception:
        if azurite:
            azurite.stop()
        raise

    base = f"http://localhost:{server.port}"
    print(
        "\n".join(
            [
                "",
                "The connector is running.",
                f"  Admin portal:  {base}/",
                f"  Health:        {base}/api/health",
                f"  Function key:  {keys.function_keys[0]}  (x-functions-key header or ?code=)",
                f"  Storage:       {'Azurite (in memory)' if azurite else 'as configured'}",
                f"  Functions:     {', '.join(host.function_names)}",
                "Press Ctrl+C to stop.",
                "",
            ]
        ),
        flush=True,
    )
    stopped = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopped.set())
    stopped.wait()
    server.stop()
    host.close()
    if azurite:
        azurite.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
