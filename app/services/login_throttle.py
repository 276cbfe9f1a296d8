"""Login throttling: sliding one-minute windows of failed sign-ins (RELIABILITY API2-b).

Two windows count failures: per (account, client address) and per client address.
A full window answers 429 with Retry-After *before* any password is hashed, so a
flood costs us nothing. The account is never locked as such: the same username
from another address still signs in, so an attacker cannot lock a real user out
(ASVS 6.3.1, "no hard lockout DoS"). A success clears its (account, address) window.

The state lives in this process. A deployment with several workers or instances
multiplies the effective limit by their number; it needs a shared store (a table
or Redis) behind the same three methods.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable

from app.core.config import get_settings
from app.core.errors import TooManyRequests

WINDOW_SECONDS = 60.0
MAX_TRACKED_KEYS = 50_000  # bounds memory under a spray of random usernames; oldest keys go first
UNKNOWN_ADDRESS = "unknown"


class LoginThrottle:
    """Counts failures; `clock` is injectable so tests move time instead of sleeping.

    Limits default to the settings at call time, so a changed setting bites at once."""

    def __init__(self, *, per_account_and_address: int | None = None, per_address: int | None = None,
                 window_seconds: float = WINDOW_SECONDS, clock: Callable[[], float] = time.monotonic,
                 max_keys: int = MAX_TRACKED_KEYS) -> None:
        self._per_account_and_address = per_account_and_address
        self._per_address = per_address
        self._window = window_seconds
        self._clock = clock
        self._max_keys = max_keys
        self._failures: OrderedDict[tuple[str, ...], deque[float]] = OrderedDict()

    def _limits(self) -> tuple[int, int]:
        settings = get_settings()
        return (self._per_account_and_address or settings.login_failures_per_account_and_address,
                self._per_address or settings.login_failures_per_address)

    @staticmethod
    def _keys(account: str, address: str | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
        address = address or UNKNOWN_ADDRESS
        # casefold: "Admin" and "admin" must share one window, or the limit is trivially bypassed
        return ("account", account.strip().casefold(), address), ("address", address)

    def _recent(self, key: tuple[str, ...], now: float) -> deque[float]:
        stamps = self._failures.get(key)
        if stamps is None:
            return deque()
        while stamps and stamps[0] <= now - self._window:
            stamps.popleft()
        if not stamps:
            del self._failures[key]
        return stamps

    def check(self, account: str, address: str | None) -> None:
        """Raise TooManyRequests (429 + Retry-After) when either window is full."""
        now = self._clock()
        account_key, address_key = self._keys(account, address)
        per_account, per_address = self._limits()
        for key, limit in ((account_key, per_account), (address_key, per_address)):
            stamps = self._recent(key, now)
            if len(stamps) >= limit:
                # The window frees a slot when its oldest failure is a minute old.
                retry_after = math.ceil(stamps[0] + self._window - now)
                raise TooManyRequests("Too many failed sign-ins; wait before trying again.",
                                      retry_after=max(1, retry_after))

    def record_failure(self, account: str, address: str | None) -> None:
        now = self._clock()
        for key in self._keys(account, address):
            self._recent(key, now)
            stamps = self._failures.setdefault(key, deque())
            stamps.append(now)
            self._failures.move_to_end(key)
        while len(self._failures) > self._max_keys:
            self._failures.popitem(last=False)

    def clear(self, account: str, address: str | None) -> None:
        """A successful sign-in forgets that account's failures from that address only:
        the address window stays, or one valid account would reset a spraying address."""
        self._failures.pop(self._keys(account, address)[0], None)


_default = LoginThrottle()


def default_throttle() -> LoginThrottle:
    return _default


def reset_default_throttle(throttle: LoginThrottle | None = None) -> LoginThrottle:
    """Start afresh (tests), optionally with a throttle that has a fake clock."""
    global _default
    _default = throttle or LoginThrottle()
    return _default
