"""Queue triggers pumped from Azurite with the Functions host's semantics (host.json `extensions.queues`):

- messages are Base64 text; one that is not valid Base64 cannot be delivered and goes to the poison queue;
- the function gets a QueueMessage with `dequeue_count`;
- when it fails, the message becomes visible again after `visibilityTimeout`; once it has been dequeued
  `maxDequeueCount` times and fails again, it moves to `<queue>-poison` with its content unchanged;
- the messages of one batch run one after another, unless `parallel` (the Functions host runs them in parallel:
  the SMS bench does; the participant-events processor is not yet safe under it, see its module);
- a received message stays invisible for `message_lease` seconds: if the host dies meanwhile, it comes back then
  (the Functions host holds a lease of 10 minutes; the bench's kill-and-restart shortens it).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import azure.functions.queue as func_queue

from shared.storage.accounts import storage_transport

if TYPE_CHECKING:
    from azure.storage.queue import QueueClient, QueueMessage

log = logging.getLogger(__name__)
UNTRACED: dict[str, Any] = {"tracing_options": {"enabled": False}}
"""The host's own polling is not the app's work: in Azure the Functions host does it, outside the app's traces."""

Invoke = Callable[[str, func_queue.QueueMessage], Awaitable[None]]


@dataclass(frozen=True)
class QueueOptions:
    max_dequeue_count: int = 5
    visibility_timeout: float = 0.0
    batch_size: int = 16
    max_polling_interval: float = 60.0
    message_lease: int = 600  # seconds a received message stays invisible to other receivers while it runs
    parallel: bool = False


@dataclass(frozen=True)
class QueueBinding:
    function_name: str
    queue_name: str
    connection_string: str


class QueuePump:
    def __init__(self, bindings: list[QueueBinding], options: QueueOptions, invoke: Invoke) -> None:
        self._bindings = bindings
        self._options = options
        self._invoke = invoke
        self._clients: dict[tuple[str, str], QueueClient] = {}

    def with_options(self, options: QueueOptions) -> QueuePump:
        """The same queues and functions under other host settings (tests retry failures at once)."""
        return QueuePump(self._bindings, options, self._invoke)

    def only(self, *function_names: str) -> QueuePump:
        """The same host pumping only these functions' queues (tests measure one trigger's work at a time)."""
        return QueuePump([b for b in self._bindings if b.function_name in function_names], self._options, self._invoke)

    def _client(self, connection_string: str, queue_name: str) -> QueueClient:
        key = (connection_string, queue_name)
        if key not in self._clients:
            from azure.core.exceptions import ResourceExistsError
            from azure.storage.queue import QueueClient

            # No decode policy: we see the raw text, as the host does, and decode Base64 ourselves.
            client = QueueClient.from_connection_string(
                connection_string, queue_name, transport=storage_transport("host", "queue")
            )
            try:
                client.create_queue(**UNTRACED)
            except ResourceExistsError:
                pass
            self._clients[key] = client
        return self._clients[key]

    async def run_once(self) -> int:
        """Receive and process one batch from every queue; the number of messages handled."""
        handled = 0
        for binding in self._bindings:
            handled += await self._batch(binding)
        return handled

    async def _batch(self, binding: QueueBinding) -> int:
        """Receive one batch of the binding's queue and process it (in parallel when the options say so)."""
        client = self._client(binding.connection_string, binding.queue_name)
        messages = await asyncio.to_thread(self._receive, client)
        if self._options.parallel:
            await asyncio.gather(*(self._handle(binding, client, message) for message in messages))
        else:
            for message in messages:
                await self._handle(binding, client, message)
        return len(messages)

    def _receive(self, client: QueueClient) -> list[QueueMessage]:
        batch = self._options.batch_size
        return list(
            client.receive_messages(
                messages_per_page=batch, max_messages=batch, visibility_timeout=self._options.message_lease, **UNTRACED
            )
        )

    async def _handle(self, binding: QueueBinding, client: QueueClient, message: QueueMessage) -> None:
        raw = message.content if isinstance(message.content, str) else str(message.content)
        try:
            body = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            log.error("Queue %s: message %s is not Base64; moved to poison", binding.queue_name, message.id)
            await self._poison(binding, client, message, raw)
            return
        if message.dequeue_count and message.dequeue_count > self._options.max_dequeue_count:
            await self._poison(binding, client, message, raw)
            return
        trigger_message = func_queue.QueueMessage(
            id=message.id,
            body=body,
            dequeue_count=message.dequeue_count,
            expiration_time=message.expires_on,
            insertion_time=message.inserted_on,
            time_next_visible=message.next_visible_on,
            pop_receipt=message.pop_receipt,
        )
        try:
            await self._invoke(binding.function_name, trigger_message)
        except Exception:
            log.exception("Queue function %s failed (dequeue count %s)", binding.function_name, message.dequeue_count)
            if (message.dequeue_count or 0) >= self._options.max_dequeue_count:
                await self._poison(binding, client, message, raw)
            else:
                await asyncio.to_thread(
                    client.update_message,
                    message.id,
                    message.pop_receipt,
                    visibility_timeout=int(self._options.visibility_timeout),
                    **UNTRACED,
                )
            return
        await asyncio.to_thread(client.delete_message, message.id, message.pop_receipt, **UNTRACED)

    async def _poison(self, binding: QueueBinding, client: QueueClient, message: QueueMessage, raw: str) -> None:
        poison = self._client(binding.connection_string, f"{binding.queue_name}-poison")
        await asyncio.to_thread(poison.send_message, raw, **UNTRACED)
        await asyncio.to_thread(client.delete_message, message.id, message.pop_receipt, **UNTRACED)
        log.warning("Queue %s: message %s moved to %s", binding.queue_name, message.id, poison.queue_name)

    async def run_forever(self, stop: asyncio.Event) -> None:
        """Each queue polled on its own, as the Functions host's listeners do: a slow queue (texts waiting for an
        answer) does not hold up another (scheduling messages); each backs off exponentially while empty, up to
        maxPollingInterval."""
        await asyncio.gather(*(self._listen(binding, stop) for binding in self._bindings))

    async def _listen(self, binding: QueueBinding, stop: asyncio.Event) -> None:
        delay = 0.1
        while not stop.is_set():
            try:
                handled = await self._batch(binding)
            except Exception:
                log.exception("Queue polling failed (%s)", binding.queue_name)
                handled = 0
            delay = 0.1 if handled else min(delay * 2, self._options.max_polling_interval)
            if handled:
                continue  # a full or partial batch: look again at once
            try:
                await asyncio.wait_for(stop.wait(), timeout=delay)
            except TimeoutError:
                pass
