"""The soak's senders (bench/soak.py), in a process of their own: an interface engine's connections, each posting
its stream in order and sending a message again until it is acknowledged (AA or AR), as engines do on a refused
connection, a timeout or an AE."""

from __future__ import annotations

import http.client
import multiprocessing
import re
import time
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.sharedctypes import Synchronized
from urllib.parse import urlsplit

from bench.soak_load import Send

ACK_CODE = re.compile(rb"\rMSA\|(A[AER])\|")
GIVE_UP = 300.0  # seconds an engine keeps resending one message


def send_streams(
    url: str,
    streams: list[list[Send]],
    progress: Synchronized[int],
    results: multiprocessing.Queue,  # type: ignore[type-arg]
) -> None:
    """Every stream at once, one connection each; puts each control ID's final codes (one per send) on
    `results`. Sends that failed before an acknowledgement are counted as `resent:<code or error>`."""
    parts = urlsplit(url)

    def post(send: Send, path: str) -> str:
        connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
        try:
            headers = {"Content-Type": "application/hl7-v2", "HL7-Signature": send.signature}
            connection.request("POST", path, body=send.body, headers=headers)
            answer = connection.getresponse()
            body = answer.read()
        except OSError as error:
            return f"error:{type(error).__name__}"
        finally:
            connection.close()
        found = ACK_CODE.search(body)
        return found.group(1).decode() if found else f"http:{answer.status}"

    def run(stream: list[Send]) -> list[tuple[str, str]]:
        codes = []
        for send in stream:
            deadline = time.monotonic() + GIVE_UP
            while True:
                code = post(send, send.path)
                if code in ("AA", "AR") or time.monotonic() > deadline:
                    break
                codes.append((send.control, f"resent:{code}"))
                time.sleep(0.5)
            codes.append((send.control, code))
            with progress.get_lock():
                progress.value += 1
        return codes

    acks: dict[str, list[str]] = {}
    with ThreadPoolExecutor(max_workers=len(streams)) as pool:
        for codes in pool.map(run, streams):
            for control, code in codes:
                acks.setdefault(control, []).append(code)
    results.put(acks)
