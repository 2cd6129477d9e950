"""Acquiring and releasing SMS phone numbers, as steps that a queue-driven job can resume after a restart.

Each `begin_*` starts a provider operation and returns its token (text the job stores); each `*_result` checks
the operation once: it returns the outcome, raises `StillRunning` (ask again later with the same token) or
raises `PhoneNumberFailed`. `acs` is Azure Communication Services (acs_numbers.py); `local` hands out
fictitious numbers at once, for local runs.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass
from typing import Protocol

from shared.core.errors import UpstreamError


@dataclass(frozen=True)
class NumberSearch:
    country_code: str
    number_type: str  # toll_free | geographic
    area_code: str | None = None


@dataclass(frozen=True)
class FoundNumbers:
    search_id: str
    numbers: list[str]
    monthly_cost: str | None = None


class StillRunning(Exception):
    """The provider's operation has not finished yet."""


class PhoneNumberFailed(UpstreamError):
    title = "The phone number operation failed"


class PhoneNumberProvider(Protocol):
    def begin_search(self, search: NumberSearch) -> str: ...

    def search_result(self, token: str) -> FoundNumbers: ...

    def begin_purchase(self, search_id: str) -> str: ...

    def purchase_result(self, token: str) -> None: ...

    def holds(self, number: str) -> bool:
        """Whether the resource holds `number` (a purchase that finished even if we never saw it finish)."""
        ...

    def begin_release(self, number: str) -> str: ...

    def release_result(self, token: str) -> None: ...


class LocalPhoneNumbers:
    """Numbers from the ranges reserved for fiction (555-0100 to 555-0199 in each area code), available at once.
    As with a real provider, a number is handed out once: each search takes the next line this worker has not
    handed out (toll-free searches move on through the toll-free area codes), so two organisations never share
    one, which would make a reply's sender ambiguous."""

    TOLL_FREE_AREAS = ("833", "844", "855", "866", "877", "888")
    _lock = threading.Lock()
    _handed_out: set[str] = set()

    def begin_search(self, search: NumberSearch) -> str:
        if search.country_code != "US":
            raise PhoneNumberFailed("Local runs hand out US numbers only.")
        areas = (search.area_code,) if search.area_code else self.TOLL_FREE_AREAS
        with self._lock:
            for area in areas:
                for line in range(100):
                    number = f"+1{area}55501{line:02d}"
                    if number not in self._handed_out:
                        self._handed_out.add(number)
                        return f"{uuid.uuid4().hex}:{number}"
        raise PhoneNumberFailed("Every fictional number of this area code is taken; restart the local run.")

    def search_result(self, token: str) -> FoundNumbers:
        _, _, number = token.partition(":")
        return FoundNumbers(search_id=token, numbers=[number], monthly_cost=None)

    def begin_purchase(self, search_id: str) -> str:
        return search_id

    def purchase_result(self, token: str) -> None:
        return None

    def holds(self, number: str) -> bool:
        return True

    def begin_release(self, number: str) -> str:
        return number

    def release_result(self, token: str) -> None:
        return None
