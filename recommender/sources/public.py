"""A lab's guard against fetching its own network: a feed's address is connected to only when it is public.

A lab member names any feed they like, and the lab's server fetches it. Without a guard a feed on 127.0.0.1, on the
lab's LAN or at a cloud's metadata address (169.254.169.254) would be read by the server and shown to that member.
So in a lab, each connection of a feed's client resolves its host, refuses it if any address is not public, and
connects to an address it checked. A DNS answer that changes between a check and the connection cannot get past it,
and neither can a redirect: every hop is a new connection. A one-person paperrec may read a feed on its own machine.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx

from ..paths import current_user, home
from ..schema import PaperrecError

SETTING = "allow_private_sources"  # a top-level key of the lab's own config.toml (not a member's)
# IPv6 prefixes that carry an IPv4 address in their last 32 bits for a translator to reach: NAT64's well-known and
# local-use prefixes, IPv4-compatible and SIIT's IPv4-translated addresses. Behind NAT64 they reach the LAN.
_TRANSLATED = tuple(ipaddress.IPv6Network(n) for n in ("64:ff9b::/96", "64:ff9b:1::/48", "::/96", "::ffff:0:0:0/96"))


class PrivateAddress(PaperrecError):
    """A lab's feed whose host is, or resolves to, an address of the server's own machine or network."""


def refusal(address: str) -> str | None:
    """What kind of address this is when a lab may not fetch from it ('a loopback address'), else None."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return "not an IP address"
    if isinstance(ip, ipaddress.IPv6Address):
        # An IPv4 address written as IPv6 reaches the IPv4 host it embeds.
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        translated = not (ip.is_loopback or ip.is_unspecified) and any(ip in network for network in _TRANSLATED)
        if embedded is None and translated:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None and (inner := refusal(str(embedded))) is not None:
            return inner
    if ip.is_unspecified:
        return "an unspecified address"
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_private:
        return "a private address"
    if not ip.is_global:  # shared (100.64/10), reserved, documentation ranges
        return "not a public address"
    return None


def private_sources_refused() -> bool:
    """Whether this run refuses feeds on private addresses: in a lab, unless the lab's config.toml allows them."""
    if current_user() is None:  # one person's own paperrec may read a feed on their machine or LAN
        return False
    from ..config import read_setting

    # The lab's file, at the top of the home: a member's own config.toml cannot allow it.
    return read_setting(SETTING, home() / "config.toml") is not True


def _checked(host: str, port: int) -> list[str]:
    """The host's addresses, each public; PrivateAddress when any is not."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as error:  # a name that does not resolve is a connection that failed, as without the guard
        raise httpcore.ConnectError(str(error)) from None
    addresses = list(dict.fromkeys(str(sockaddr[0]) for *_, sockaddr in found))
    if not addresses:
        raise httpcore.ConnectError(f"no address for {host}")
    for address in addresses:
        kind = refusal(address)
        if kind is not None:
            named = host if host == address else f"{host} ({address})"
            raise PrivateAddress(
                f"refused: {named} is {kind}, and a lab's server fetches no source on its own machine or network"
                f" (its admin may allow that with {SETTING} = true in the lab's config.toml)"
            )
    return addresses


class _PublicBackend(httpcore.SyncBackend):
    """Connects only to an address it checked is public: the check and the connection read the same lookup."""

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        addresses = _checked(host, port)
        for address in addresses[:-1]:
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError:
                continue  # the next address, as a connection to a name tries each
        return super().connect_tcp(addresses[-1], port, timeout, local_address, socket_options)


class PublicTransport(httpx.HTTPTransport):
    """httpx's transport, connecting only to public addresses (and so through no proxy: it could reach any)."""

    def __init__(self) -> None:
        super().__init__(trust_env=False)
        # httpx takes no network backend: its pool is replaced by one that has ours, with httpx's default limits.
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=100,
            max_keepalive_connections=20,
            keepalive_expiry=5.0,
            network_backend=_PublicBackend(),
        )
