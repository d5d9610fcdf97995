"""Where a request may go: the host and port of a URL, the addresses a host name resolves to,
and which of those addresses may be connected to.

- Only http and https URLs with a host are fetched; anything else is refused.
- A host name is resolved once per new connection, in a helper thread of a pool shared by
  every Fetcher of the process, waiting no longer than the fetch's deadline (a slow DNS server
  cannot hold a worker past it).
- Every address must be public (unless private addresses are allowed), and the connection
  goes to one of those checked addresses, never through a second lookup (DNS rebinding).
- Link-local addresses (169.254.0.0/16, fe80::/10) and the clouds' metadata services are
  refused even when private addresses are allowed (a hostile upstream's redirect to
  169.254.169.254 must not read a machine's credentials), unless an editor names them in
  ``[fetch] allow_addresses``.

``resolve`` and ``is_public_address`` are looked up in this module at call time, so a test
can replace them here.
"""

from __future__ import annotations

import concurrent.futures
import functools
import ipaddress
import socket
import threading
import time

import httpx

from feeds.errors import FetchError
from feeds.types import ErrorKind

SCHEMES = frozenset({"http", "https"})
DNS_THREADS = 16  # lookups at once, shared by every Fetcher of the process

_SIX_TO_FOUR = ipaddress.IPv6Network("2002::/16")
_TEREDO = ipaddress.IPv6Network("2001::/32")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052 well-known prefix
# Not covered by ipaddress's is_global/is_private (in every Python version we support).
_NON_PUBLIC = (
    ipaddress.IPv4Network("192.88.99.0/24"),  # 6to4 relay anycast (RFC 7526)
    ipaddress.IPv6Network("fec0::/10"),  # site-local (deprecated, RFC 3879)
    ipaddress.IPv6Network("64:ff9b:1::/48"),  # local-use NAT64 (RFC 8215)
)

# Refused even where private addresses are allowed, unless named in allow_addresses.
_NEVER_IMPLICIT = (
    ipaddress.IPv4Network("169.254.0.0/16"),  # link-local, and most clouds' metadata service
    ipaddress.IPv6Network("fe80::/10"),  # link-local
    ipaddress.IPv6Network("fd00:ec2::254/128"),  # a cloud's metadata service over IPv6
    ipaddress.IPv4Network("100.100.100.200/32"),  # a cloud's metadata service
)
ALLOW_NAMED_HINT = "to fetch it anyway, list the address in site.toml's [fetch] allow_addresses"

# How an editor allows what the address policy refuses: named in the refusal.
ALLOW_PRIVATE_HINT = (
    "to fetch it, set allow_private_addresses = true in site.toml's [fetch] table, "
    "or FEEDS_ALLOW_PRIVATE_ADDRESSES=1"
)


# --------------------------------------------------------------------------- URLs


@functools.lru_cache(maxsize=4096)  # parsing is a measurable part of a 304 fetch
def parse_url(url: str) -> httpx.URL:
    """`url` parsed; raises FetchError (REFUSED) when it is not a valid URL."""
    try:
        return httpx.URL(url)
    except (httpx.InvalidURL, ValueError) as exc:
        raise FetchError(f"invalid URL {url!r}: {exc}", ErrorKind.REFUSED) from exc


def target(url: httpx.URL) -> tuple[str, int]:
    """The host and port `url` connects to; refuses schemes other than http(s)."""
    if url.scheme not in SCHEMES:
        raise FetchError(f"refused {url}: only http and https URLs are fetched", ErrorKind.REFUSED)
    host = url.raw_host.decode("ascii")
    if not host:
        raise FetchError(f"refused {url}: no host", ErrorKind.REFUSED)
    return host, url.port or (443 if url.scheme == "https" else 80)


# --------------------------------------------------------------------------- addresses


def is_public_address(ip: str) -> bool:
    """True when `ip` is a globally routable unicast address.

    IPv6 forms that carry an IPv4 address the packets really go to (IPv4-mapped, 6to4, NAT64
    with the well-known prefix, Teredo's server and client) are judged by that IPv4 address.
    """
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return False
    if isinstance(addr, ipaddress.IPv6Address):
        if addr.ipv4_mapped is not None:
            return _is_public(addr.ipv4_mapped)
        if addr in _SIX_TO_FOUR:
            return addr.sixtofour is not None and _is_public(addr.sixtofour)
        if addr in _NAT64:
            return _is_public(ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF))
        if addr in _TEREDO:
            return addr.teredo is not None and all(_is_public(a) for a in addr.teredo)
    return _is_public(addr)


def is_never_implicit(ip: str) -> bool:
    """True for a link-local or cloud metadata address (also in an IPv4-mapped IPv6 form):
    fetched only when named in ``allow_addresses``."""
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return False
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    return any(addr in net for net in _NEVER_IMPLICIT if net.version == addr.version)


def is_named(ip: str, allowed: tuple[str, ...]) -> bool:
    """True when `ip` is in one of the `allowed` addresses or networks."""
    if not allowed:
        return False
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return any(
        addr in net
        for net in (ipaddress.ip_network(a, strict=False) for a in allowed)
        if net.version == addr.version
    )


def _is_public(addr: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return (
        addr.is_global
        and not (
            addr.is_private
            or addr.is_loopback
            or addr.is_link_local
            or addr.is_reserved
            or addr.is_multicast
            or addr.is_unspecified
            or (isinstance(addr, ipaddress.IPv6Address) and addr.is_site_local)
        )
        and not any(addr in net for net in _NON_PUBLIC if net.version == addr.version)
    )


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


# --------------------------------------------------------------------------- DNS


def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (raises socket.gaierror)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(sockaddr[0]) for *_, sockaddr in infos]


_dns_lock = threading.Lock()
_dns_pool: concurrent.futures.ThreadPoolExecutor | None = None


def _dns_executor() -> concurrent.futures.ThreadPoolExecutor:
    global _dns_pool
    with _dns_lock:
        if _dns_pool is None:
            _dns_pool = concurrent.futures.ThreadPoolExecutor(
                DNS_THREADS, thread_name_prefix="feeds-dns"
            )
        return _dns_pool


def _lookup(host: str, port: int) -> list[str]:
    return resolve(host, port)  # looked up at call time, so tests can replace `resolve`


def checked_addresses(
    host: str,
    port: int,
    *,
    allow_private: bool,
    deadline_at: float | None = None,
    allowed: tuple[str, ...] = (),
) -> list[str]:
    """The addresses to connect to for `host`, all public unless `allow_private`; never a
    link-local or metadata address unless it is in `allowed` (which admits any address).

    A host name is resolved in a helper thread, waiting no later than `deadline_at`
    (time.monotonic()). Raises FetchError: DNS, TIMEOUT or REFUSED.
    """
    if _is_ip_literal(host):
        addresses = [host]
    else:
        future = _dns_executor().submit(_lookup, host, port)
        wait = None if deadline_at is None else max(deadline_at - time.monotonic(), 0.0)
        try:
            addresses = future.result(wait)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise FetchError(
                f"deadline exceeded while resolving {host}", ErrorKind.TIMEOUT
            ) from None
        except socket.gaierror as exc:
            raise FetchError(f"cannot resolve {host}: {exc.strerror}", ErrorKind.DNS) from exc
        except (UnicodeError, OSError) as exc:
            raise FetchError(f"cannot resolve {host}: {exc}", ErrorKind.DNS) from exc
        if not addresses:
            raise FetchError(f"cannot resolve {host}: no addresses", ErrorKind.DNS)
    for address in addresses:
        if is_named(address, allowed):
            continue
        if is_never_implicit(address):
            raise FetchError(
                f"refused {host}: it resolves to link-local or metadata address {address} "
                f"({ALLOW_NAMED_HINT})",
                ErrorKind.REFUSED,
            )
        if not allow_private and not is_public_address(address):  # replaceable by tests
            raise FetchError(
                f"refused {host}: it resolves to non-public address {address} "
                f"({ALLOW_PRIVATE_HINT})",
                ErrorKind.REFUSED,
            )
    return addresses
