"""`python -m dev`: the local runtime. Loads local.settings.json, starts Azurite unless a storage connection is
configured (a setting left empty or `UseDevelopmentStorage=true` gets this run's Azurite), and serves the function
app and web/ on http://localhost:7071, the sandbox EHR on 7072 and the local sign-in on 7073 (each port an
option)."""

from __future__ import annotations

import argparse
import errno
import importlib
import logging
import os
import secrets
import signal
import socket
import sys
import threading
from pathlib import Path
from urllib.parse import urlsplit

from dev.fakes.ehr_profiles import FAILING_PROFILES, PROFILES
from dev.fakes.identity import LocalIssuer
from dev.fakes.meeting_room import MeetingRooms
from dev.fakes.sandbox_ehr import SandboxEhr
from dev.host import outbox
from dev.host.azurite import Azurite
from dev.host.host import DevHost, HostConfig, HostKeys
from dev.host.local_settings import apply_values, load_values
from dev.host.serving import ServerThread
from shared.core.clock import SystemClock
from shared.core.ratelimit import TokenBucket
from shared.core.settings import Geography
from shared.core.telemetry import destination

ROOT = Path(__file__).resolve().parent.parent
LOCAL_CLIENT_ID = "connector-local"
LOCAL_BACKEND_CLIENT_ID = "connector-local-backend"  # EHR writeback (SMART backend services)
LOCAL_CLINICIAN_CLIENT_ID = "connector-local-clinicians"  # the clinicians' Microsoft 365 sign-in (local issuer)
ACCOUNTS = (
    {"AzureWebJobsStorage": "connectorapp"}
    | {f"DATA_STORAGE_{g.value}": f"connector{g.value.lower()}" for g in Geography}
    | {f"DATA_QUEUES_{g.value}": f"connector{g.value.lower()}" for g in Geography}
)


DEVELOPMENT_STORAGE = "UseDevelopmentStorage=true"
LOOPBACK = {"localhost", "127.0.0.1", "::1"}
PORTS = {  # option: (what listens there, make's variable)
    "port": ("the connector", "PORT"),
    "ehr_port": ("the sandbox EHR", "EHR_PORT"),
    "identity_port": ("the local sign-in", "IDENTITY_PORT"),
}


class PortInUse(Exception):
    def __init__(self, option: str, port: int) -> None:
        what, variable = PORTS[option]
        flag = "--" + option.replace("_", "-")
        super().__init__(
            f"Port {port} ({what}) is in use, perhaps by another `make run`: choose another with {flag} "
            f"(make run {variable}=...; make demo takes the same {variable}=)."
        )


def _check_free(host: str, port: int, option: str) -> None:
    """Before anything starts: the port can be listened on (else PortInUse, naming the option)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as aiohttp binds: TIME_WAIT does not count
        try:
            sock.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise PortInUse(option, port) from None
            raise


def _start(server: ServerThread, option: str, port: int) -> ServerThread:
    """Start a server; a port taken since the check is PortInUse too."""
    try:
        return server.start()
    except RuntimeError as error:
        if isinstance(error.__cause__, OSError) and error.__cause__.errno == errno.EADDRINUSE:
            raise PortInUse(option, port) from None
        raise


def public_base_url(given: str | None, environ_value: str | None, settings_value: str, port: int) -> str:
    """The connector's public URL: as given (--public-base-url, or PUBLIC_BASE_URL in the environment), else the
    settings file's unless it is a local one, which follows --port."""
    if given:
        return given.rstrip("/")
    if environ_value:
        return environ_value.rstrip("/")
    if settings_value and urlsplit(settings_value).hostname not in LOOPBACK:
        return settings_value.rstrip("/")  # a tunnel or a name of your own
    return f"http://localhost:{port}"


def _telemetry_destination() -> str:
    """Where the app's spans go once it first runs."""
    where = destination(os.environ)
    return "off (make run TELEMETRY=console, or TELEMETRY=<OTLP URL>)" if where == "none" else where


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m dev", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="the address every server listens on (default %(default)s)")
    parser.add_argument(
        "--port",
        type=int,
        default=7071,
        help="port of the connector, API and portal (default %(default)s; make run PORT=)",
    )
    parser.add_argument(
        "--ehr-port", type=int, default=7072, help="port of the sandbox EHR (default %(default)s; EHR_PORT=)"
    )
    parser.add_argument(
        "--identity-port",
        type=int,
        default=7073,
        help="port of the local sign-in issuer (default %(default)s; IDENTITY_PORT=)",
    )
    parser.add_argument(
        "--public-base-url",
        default=None,
        help="the connector's public URL (PUBLIC_BASE_URL); default: PUBLIC_BASE_URL from the environment, else "
        "the settings file's unless it is a localhost URL, else http://localhost:PORT",
    )
    parser.add_argument(
        "--settings",
        type=Path,
        default=ROOT / "local.settings.json",
        help="the app settings (their Values, as the Functions host reads them; default local.settings.json, "
        "else local.settings.sample.json)",
    )
    parser.add_argument(
        "--ehr-profile",
        default="epic",
        choices=[*PROFILES, *FAILING_PROFILES],
        help="how the sandbox EHR behaves (dev/fakes/ehr_profiles.py): epic, oracle, strict, quirky, ...",
    )
    parser.add_argument(
        "--anonymous-rate",
        type=int,
        default=300,
        help="requests per minute per client address to anonymous triggers (default %(default)s)",
    )
    parser.add_argument(
        "--telemetry",
        default="",
        help="where the app's spans go: console, or an OTLP/HTTP collector's URL (http://localhost:4318); "
        "the settings TELEMETRY_CONSOLE and OTEL_EXPORTER_OTLP_ENDPOINT otherwise",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _run(args)
    except PortInUse as error:
        print(f"python -m dev: {error}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    for option in PORTS:
        _check_free(args.host, getattr(args, option), option)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("azure").setLevel(logging.WARNING)  # as host.json's "Azure.Core": "Warning"

    settings_file = args.settings if args.settings.exists() else ROOT / "local.settings.sample.json"
    values = load_values(settings_file)
    public = public_base_url(
        args.public_base_url, os.environ.get("PUBLIC_BASE_URL"), values.get("PUBLIC_BASE_URL", ""), args.port
    )
    os.environ["PUBLIC_BASE_URL"] = public
    apply_values(values, os.environ)
    if args.telemetry == "console":
        os.environ["TELEMETRY_CONSOLE"] = "true"
    elif args.telemetry:
        os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"] = args.telemetry

    azurite: Azurite | None = None
    ours = ("", DEVELOPMENT_STORAGE)  # settings this run's Azurite fills in (func start's Azurite is not ours)
    if os.environ.get("AzureWebJobsStorage", "") in ours and not os.environ.get("AzureWebJobsStorage__accountName"):
        azurite = Azurite().start(avoid=frozenset(getattr(args, option) for option in PORTS))
        for setting, account in ACCOUNTS.items():
            if os.environ.get(setting, "") in ours:
                os.environ[setting] = azurite.connection_string(account)

    # The sandbox EHR and the local sign-in issuer (trusted only because ENVIRONMENT=local).
    profile = PROFILES.get(args.ehr_profile) or FAILING_PROFILES[args.ehr_profile]
    sandbox = SandboxEhr(connector_url=public, profile=profile)
    sandbox.register_client(LOCAL_CLIENT_ID, f"{public}/api/portal/approval/callback")
    sandbox.register_client(LOCAL_CLIENT_ID, f"{public}/api/launch/callback")
    sandbox.register_backend_client(LOCAL_CLIENT_ID, f"{public}/api/.well-known/jwks/")  # confidential clients
    sandbox.register_backend_client(LOCAL_BACKEND_CLIENT_ID, f"{public}/api/.well-known/jwks/")
    ehr_server = _start(
        ServerThread(sandbox.application(), host=args.host, port=args.ehr_port), "ehr_port", args.ehr_port
    )
    sandbox.url = f"http://localhost:{ehr_server.port}"
    issuer = LocalIssuer(audience=os.environ.get("PORTAL_API_AUDIENCE") or "api://ehr-connector-local")
    identity_server = _start(
        ServerThread(issuer.application(), host=args.host, port=args.identity_port), "identity_port", args.identity_port
    )
    issuer.url = f"http://localhost:{identity_server.port}"
    if os.environ.get("ENVIRONMENT") == "local" and not os.environ.get("LOCAL_ISSUER_URL"):
        os.environ["LOCAL_ISSUER_URL"] = issuer.url

    if os.environ.get("SECRETS_PROVIDER") == "env":
        for name in ("SECRET_JOIN_LINK_KEY", "SECRET_OPT_OUT_KEY"):  # this run's join-link and opt-out keys
            os.environ[name] = os.environ.get(name) or secrets.token_urlsafe(32)
        if os.environ.get("LOCAL_ISSUER_URL") == issuer.url and not os.environ.get("CLINICIAN_SIGN_IN_CLIENT_ID"):
            # No app registration of your own for the clinicians' sign-in: the local issuer plays Entra ID for it.
            os.environ["ENTRA_AUTHORITY"] = issuer.authority
            os.environ["CLINICIAN_SIGN_IN_CLIENT_ID"] = LOCAL_CLINICIAN_CLIENT_ID
            os.environ["SECRET_CLINICIAN_SIGN_IN_SECRET"] = secrets.token_urlsafe(32)
            issuer.codes.register(
                os.environ["CLINICIAN_SIGN_IN_CLIENT_ID"],
                os.environ["SECRET_CLINICIAN_SIGN_IN_SECRET"],
                f"{public}/api/launch/microsoft",
            )

    keys = HostKeys(
        function_keys=(os.environ.get("DEV_HOST_FUNCTION_KEY") or secrets.token_urlsafe(24),),
        master_key=os.environ.get("DEV_HOST_MASTER_KEY") or secrets.token_urlsafe(24),
    )
    sandbox.function_key = keys.function_keys[0]  # the patient's phone delivers inbound texts with it
    try:
        sys.path.insert(0, str(ROOT))
        function_app = importlib.import_module("function_app")
        host = DevHost(
            function_app.app,
            keys=keys,
            environ=os.environ,
            config=HostConfig.load(ROOT / "host.json"),
            web_dir=ROOT / "web",
            # Anonymous triggers, per client address (Front Door's WAF rule in Azure: infra/modules/ratelimit.bicep).
            anonymous_limit=TokenBucket(
                args.anonymous_rate, burst=max(10, args.anonymous_rate // 2), clock=SystemClock()
            ),
        )
        server = ServerThread(
            host.web_application([*MeetingRooms().routes(), *outbox.routes()]),
            host=args.host,
            port=args.port,
            tasks=[host.timers.run_forever, host.queues.run_forever],
        )
        _start(server, "port", args.port)
    except Exception:
        ehr_server.stop()
        identity_server.stop()
        if azurite:
            azurite.stop()
        raise

    base = f"http://localhost:{server.port}"
    print(
        "\n".join(
            [
                "",
                "The connector is running.",
                f"  Admin portal:  {base}/  (sign in: pick a user and roles; the setup wizard follows)",
                f"  Health:        {base}/api/health",
                f"  API contract:  {base}/api/openapi.json",
                f"  Local sign-in: {issuer.url}/  (tokens for the portal API)",
                f"  Sandbox EHR:   {sandbox.fhir_base}  (SMART client ID: {LOCAL_CLIENT_ID})",
                f"  EHR profile:   {profile.name}: {profile.summary}"
                + ("  (client type: confidential-asymmetric)" if profile.confidential else ""),
                f"  Visits:        {sandbox.url}/ehr  (after make demo: Begin virtual visit)",
                f"  Writebacks:    {sandbox.url}/ehr/writebacks  (what the connector wrote back to the EHR)",
                f"  Device test:   {base}/api/device-test",
                "  Walk through:  make demo  (in another terminal)",
                f"  Function key:  {keys.function_keys[0]}  (x-functions-key header or ?code=)",
                f"  Storage:       {'Azurite (in memory)' if azurite else 'as configured'}",
                f"  Functions:     {', '.join(host.function_names)}",
                f"  Telemetry:     {_telemetry_destination()}",
                "Press Ctrl+C to stop.",
                "",
            ]
        ),
        flush=True,
    )
    stopped = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, lambda *_: stopped.set())
    stopped.wait()
    server.stop()
    ehr_server.stop()
    identity_server.stop()
    host.close()
    if azurite:
        azurite.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
