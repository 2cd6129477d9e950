"""The local run follows its ports: two stacks (`python -m dev`, as `make run` starts it) on different ports, and
`make demo` walked against each at the same time, to the end; a port already in use is one clear line."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from dev.__main__ import main as dev_main
from dev.host.azurite import free_port
from dev.host.local_settings import write_local_settings

ROOT = Path(__file__).resolve().parents[2]
# Only what finds the tools: the stacks read their settings from their own local.settings.json, not this run's.
BASE_ENV = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR", "USER")}


@dataclass
class Stack:
    port: int
    ehr_port: int
    identity_port: int
    process: subprocess.Popen[str]

    def make(self, target: str) -> subprocess.Popen[str]:
        ports = [f"PORT={self.port}", f"EHR_PORT={self.ehr_port}", f"IDENTITY_PORT={self.identity_port}"]
        return subprocess.Popen(
            ["make", "-s", "--no-print-directory", target, *ports],
            cwd=ROOT,
            env=BASE_ENV,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )


def start(settings: Path) -> Stack:
    ports = [free_port() for _ in range(3)]
    process = subprocess.Popen(
        [sys.executable, "-m", "dev", "--settings", str(settings)]
        + ["--port", str(ports[0]), "--ehr-port", str(ports[1]), "--identity-port", str(ports[2])],
        cwd=ROOT,
        env=BASE_ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    return Stack(port=ports[0], ehr_port=ports[1], identity_port=ports[2], process=process)


def wait_healthy(stack: Stack, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert stack.process.poll() is None, "the dev host stopped"
        try:
            if httpx.get(f"http://localhost:{stack.port}/api/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"the dev host on port {stack.port} did not become healthy")


@pytest.fixture(scope="module")
def stacks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Stack]]:
    settings = tmp_path_factory.mktemp("settings") / "local.settings.json"
    write_local_settings(ROOT / "local.settings.sample.json", settings)
    running = [start(settings), start(settings)]
    try:
        for stack in running:
            wait_healthy(stack)
        yield running
    finally:
        for stack in running:
            stack.process.terminate()
        for stack in running:
            try:
                stack.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                stack.process.kill()
                stack.process.wait()


def test_two_make_demo_runs_on_different_ports_finish_side_by_side(stacks: list[Stack]) -> None:
    demos = [stack.make("demo") for stack in stacks]
    outputs = [demo.communicate(timeout=240)[0] for demo in demos]
    for stack, demo, output in zip(stacks, demos, outputs, strict=True):
        assert demo.returncode == 0, output[-3000:]
        assert "10. The audit log" in output and "create   organisation" in output, output[-3000:]
        assert "the patient replied C (HTTP 200); the answer: Contoso Health: thank you, your video visit" in output
        # Each stack's URLs follow its own ports: the connector's public URL and the sandbox EHR's.
        assert f"Launch URL: http://localhost:{stack.port}/api/launch/provider" in output
        assert f"FHIR base URL http://localhost:{stack.ehr_port}/fhir" in output
        assert "localhost:7071" not in output and "localhost:7072" not in output


def test_a_port_in_use_is_one_line_naming_it_and_the_option(
    stacks: list[Stack], capsys: pytest.CaptureFixture[str]
) -> None:
    taken = stacks[0]
    for option, port, variable in (
        ("--port", taken.port, "PORT"),
        ("--ehr-port", taken.ehr_port, "EHR_PORT"),
        ("--identity-port", taken.identity_port, "IDENTITY_PORT"),
    ):
        others = {"--port": free_port(), "--ehr-port": free_port(), "--identity-port": free_port(), option: port}
        assert dev_main([arg for pair in others.items() for arg in (pair[0], str(pair[1]))]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "Traceback" not in err, err
        assert f"Port {port} " in err and f"with {option} " in err and f"{variable}=" in err


def test_every_option_of_python_m_dev_has_help() -> None:
    from dev.__main__ import build_parser

    for action in build_parser()._actions:
        assert action.help, f"{action.option_strings} has no help"


def test_the_public_url_follows_the_port_unless_it_is_given() -> None:
    from dev.__main__ import public_base_url

    assert public_base_url(None, None, "http://localhost:7071", 8081) == "http://localhost:8081"
    assert public_base_url(None, None, "", 8081) == "http://localhost:8081"
    assert public_base_url("https://me.example/", None, "http://localhost:7071", 8081) == "https://me.example"
    assert public_base_url(None, "https://env.example", "http://localhost:7071", 8081) == "https://env.example"
    assert public_base_url(None, None, "https://tunnel.example", 8081) == "https://tunnel.example"
