"""Webhook targets may not point into the service's own network (SSRF; RELIABILITY.md, OWASP API7).

A target must be https and every address its host resolves to must be public: loopback, private,
link-local (169.254.169.254, the cloud metadata service), shared, multicast, reserved and
documentation ranges are refused, IPv4-mapped IPv6 included. The check runs when a subscription
is saved AND before every delivery (DNS can change in between), and the delivery then connects to
the address that was checked, so a second lookup cannot be rebound. Hosts on the admin's allowlist
(WEBHOOK_ALLOWED_HOSTS: an intranet receiver, tests) skip the address check and may use http.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

Resolver = Callable[[str, int], Awaitable[list[str]]]
RESOLVE_TIMEOUT_SECONDS = 3.0


class TargetRefused(Exception):
    """The URL may not be used as a webhook target; the message says why (safe to show)."""


async def system_resolve(host: str, port: int) -> list[str]:
    loop = asyncio.get_running_loop()
    infos = await asyncio.wait_for(loop.getaddrinfo(host, port, type=socket.SOCK_STREAM),
                                   RESOLVE_TIMEOUT_SECONDS)
    return sorted({str(info[4][0]) for info in infos})


# Tests replace this (a hostname that resolves to loopback, a rebinding host); production never does.
resolver: Resolver = system_resolve


@dataclass(frozen=True)
class Target:
    url: str
    host: str
    port: int
    address: str | None  # the checked address to connect to; None for an allowlisted host


def address_refusal(address: str) -> str | None:
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return "not an IP address"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for test, why in ((ip.is_loopback, "loopback"), (ip.is_link_local, "link-local"),
                      (ip.is_multicast, "multicast"), (ip.is_unspecified, "unspecified"),
                      (ip.is_reserved, "reserved"), (ip.is_private, "private")):
        if test:
            return why
    if not ip.is_global:
        return "not public"
    return None


def _host_allowed(host: str, allowed: Iterable[str]) -> bool:
    return host.lower().rstrip(".") in {h.lower().rstrip(".") for h in allowed}


async def check_target(url: str, allowed_hosts: Iterable[str]) -> Target:
    """The target to connect to, or TargetRefused with the reason."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise TargetRefused("not a valid URL") from None
    host = (parts.hostname or "").lower()
    if not host or parts.scheme not in ("https", "http"):
        raise TargetRefused("must be an https URL")
    if parts.username is not None or parts.password is not None:
        raise TargetRefused("must not carry credentials")
    allowed = _host_allowed(host, allowed_hosts)
    if parts.scheme != "https" and not allowed:
        raise TargetRefused("must be an https URL")
    port = port or (443 if parts.scheme == "https" else 80)
    if allowed:
        return Target(url, host, port, None)
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [str(literal)]
    else:
        try:
            addresses = await resolver(host, port)
        except (OSError, TimeoutError, UnicodeError):
            raise TargetRefused(f"the host {host!r} does not resolve") from None
        if not addresses:
            raise TargetRefused(f"the host {host!r} does not resolve")
    for address in addresses:
        why = address_refusal(address)
        if why:
            raise TargetRefused(f"the host resolves to a {why} address, which is not allowed")
    return Target(url, host, port, addresses[0])
