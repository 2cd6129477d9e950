"""Run an aiohttp application (and background tasks) on a loopback port in a thread of its own, so that the
dev host, the sandbox EHR and test stubs can run beside synchronous code and tests."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from types import TracebackType
from typing import Any

from aiohttp import web

BackgroundTask = Callable[[asyncio.Event], Coroutine[Any, Any, None]]


class ServerThread:
    def __init__(
        self,
        application: web.Application,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        tasks: list[BackgroundTask] | None = None,
        ssl_context: Any = None,
        reuse_port: bool = False,
    ) -> None:
        """`reuse_port`: several processes may listen on the same port, the kernel sharing connections among
        them (benchmarks run two dev hosts as two instances behind one address)."""
        self._reuse_port = reuse_port
        self._application = application
        self._host = host
        self._port = port
        self._tasks = tasks or []
        self._ssl = ssl_context
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="server", daemon=True)
        self.port = port

    @property
    def url(self) -> str:
        scheme = "https" if self._ssl else "http"
        return f"{scheme}://{self._host}:{self.port}"

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._serve())

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        runner = web.AppRunner(self._application, access_log=None)
        try:
            await runner.setup()
            site = web.TCPSite(
                runner, self._host, self._port, ssl_context=self._ssl, reuse_port=self._reuse_port or None
            )
            await site.start()
            server = getattr(site, "_server", None)
            sockets = getattr(server, "sockets", None) or []
            if sockets:
                self.port = int(sockets[0].getsockname()[1])
        except BaseException as exc:  # reported to the starting thread
            self._error = exc
            self._ready.set()
            await runner.cleanup()
            return
        background = [asyncio.create_task(task(self._stop)) for task in self._tasks]
        self._ready.set()
        await self._stop.wait()
        await asyncio.gather(*background, return_exceptions=True)
        await runner.cleanup()

    def start(self, timeout: float = 30.0) -> ServerThread:
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError("The server did not start in time")
        if self._error is not None:
            raise RuntimeError(f"The server did not start: {self._error}") from self._error
        return self

    def run(self, coroutine: Coroutine[Any, Any, Any], timeout: float = 60.0) -> Any:
        """Run a coroutine on the server's loop from another thread and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    def stop(self) -> None:
        if self._stop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
            self._thread.join(timeout=30)

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
