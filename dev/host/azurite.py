"""Azurite from npm (node_modules/.bin/azurite), in memory, on free ports, with our own accounts and keys.

Each storage account the app uses (the app's own and one per geography) is a separate Azurite account, so data
routed to the EU account really is absent from the US one. Keys are generated at start.
"""

from __future__ import annotations

import base64
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

ROOT = Path(__file__).resolve().parents[2]
FLAGS = ["--skipApiVersionCheck", "--loose", "--disableTelemetry", "--silent"]
DEFAULT_ACCOUNTS = ("connectorapp", "connectorus", "connectoreu", "connectorapac")


def _die_with_parent() -> None:
    """In the child before exec: on Linux, ask for SIGTERM when the parent process dies, so that Azurite never
    outlives the dev host or the test run that started it (even if that one is killed)."""
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _free_port_but(avoid: frozenset[int]) -> int:
    while (port := free_port()) in avoid:
        pass
    return port


def _listening(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


class Azurite:
    def __init__(
        self, accounts: Sequence[str] = DEFAULT_ACCOUNTS, executable: Path | None = None, *, persistent: bool = False
    ) -> None:
        """`persistent`: the data is kept on disk in a scratch directory (removed by `stop`), so that `halt` and
        `resume` stop and start the emulator with its data, as a storage outage would; in memory otherwise."""
        self.persistent = persistent
        self.accounts = {name: base64.b64encode(secrets.token_bytes(32)).decode() for name in accounts}
        self.executable = executable or ROOT / "node_modules" / ".bin" / "azurite"
        self._process: subprocess.Popen[bytes] | None = None
        self._workdir: str | None = None
        self._last_error = ""
        self.ports: dict[str, int] = {}

    def start(self, timeout: float = 60.0, *, avoid: frozenset[int] = frozenset()) -> Azurite:
        """Start on free ports other than `avoid` (ports the caller is about to listen on itself: one just found
        free may be handed out again)."""
        if not self.executable.exists():
            raise RuntimeError(f"{self.executable} is missing; run `npm ci` (make run and make test do).")
        last_error = ""
        for _ in range(3):  # a port picked as free can be taken before Azurite binds it; pick again
            self.ports = {service: _free_port_but(avoid) for service in ("blob", "queue", "table")}
            self._workdir = tempfile.mkdtemp(prefix="azurite-")
            if self._launch(timeout):
                return self
            last_error = self._last_error
            self.stop()
        raise RuntimeError(f"Azurite did not start: {last_error}")

    def halt(self) -> None:
        """Stop the emulator and keep its data and ports (persistent only): storage is unreachable until `resume`."""
        if not self.persistent:
            raise RuntimeError("Only a persistent Azurite keeps its data when halted")
        self._end_process()

    def resume(self, timeout: float = 60.0) -> None:
        """Start the halted emulator again on the same ports, with the data it had."""
        if not self._launch(timeout):
            raise RuntimeError(f"Azurite did not start again: {self._last_error}")

    def _launch(self, timeout: float) -> bool:
        """Start the process on `self.ports` in `self._workdir`; whether it listens within `timeout`."""
        self._last_error = ""
        env = {**os.environ, "AZURITE_ACCOUNTS": ";".join(f"{n}:{k}" for n, k in self.accounts.items())}
        persistence = ["--location", str(self._workdir)] if self.persistent else ["--inMemoryPersistence"]
        command = [str(self.executable), *FLAGS, *persistence]
        for service, port in self.ports.items():
            command += [f"--{service}Host", "127.0.0.1", f"--{service}Port", str(port)]
        # In a scratch directory: the data when persistent, nothing otherwise.
        self._process = subprocess.Popen(
            command,
            env=env,
            cwd=self._workdir,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
            preexec_fn=_die_with_parent,  # note: fires when the starting thread ends; we start from main
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                self._last_error = (self._process.stderr.read() if self._process.stderr else b"").decode()[-500:]
                return False
            if all(_listening(port) for port in self.ports.values()):
                return True
            time.sleep(0.1)
        self._last_error = f"not listening after {timeout:.0f} s"
        return False

    def connection_string(self, account: str) -> str:
        key = self.accounts[account]
        endpoints = ";".join(
            f"{service.capitalize()}Endpoint=http://127.0.0.1:{port}/{account}" for service, port in self.ports.items()
        )
        return f"DefaultEndpointsProtocol=http;AccountName={account};AccountKey={key};{endpoints};"

    def stop(self) -> None:
        self._end_process()
        if self._workdir:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    def _end_process(self) -> None:
        if self._process is not None:
            if self._process.poll() is None:
                self._process.terminate()
                try:
                    self._process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self._process.kill()
                    self._process.wait()
            if self._process.stderr:
                self._process.stderr.close()
            self._process = None

    def __enter__(self) -> Azurite:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
