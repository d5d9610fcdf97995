"""Fetch upstream URLs politely and safely, and ping WebSub hubs (the only httpx/httpcore user).

``Fetcher.fetch`` never raises for network or HTTP problems; it returns a ``FetchResult``
whose ``error_kind`` is one of:

- ``"timeout"``   the total deadline (waiting for the host + connect + headers + body) passed
- ``"too_large"`` the decompressed body passed ``max_bytes``
- ``"http"``      a 4xx/5xx (or unusable 1xx/3xx) answer; ``http_status`` is set
- ``"redirects"`` a redirect loop, too many redirects, or an unusable ``Location``
- ``"refused"``   not http(s), an invalid URL, or a non-public address (unless allowed)
- ``"dns"``       the host name does not resolve
- ``"tls"``       the TLS handshake or certificate verification failed
- ``"decode"``    an unsupported or corrupt Content-Encoding
- ``"network"``   any other transport problem (connection refused, reset, protocol error)

``Fetcher.notify_hub`` tells a WebSub hub that a topic changed and returns a ``HubResult``;
``Fetcher.post`` POSTs a webhook's event the same way.

One job per module, each documenting its part of the behaviour:

- ``client``    ``Fetcher`` and ``HubResult``; the headers sent; exceptions described as
  error kinds and messages
- ``attempt``   one fetch in progress: redirects, 304s, the body within the size cap, the result
- ``gate``      per-host politeness: requests at once and spacing per host, first come first
  served
- ``transport`` our httpx transport over httpcore's connection pool, with a network backend
  that connects to checked addresses and bounds every operation by the deadline
- ``deadline``  the total deadline of one fetch, known to the network backend of its thread
- ``addresses`` which URLs and addresses may be fetched; DNS resolved once, within the deadline
- ``decode``    gzip/deflate inflated in bounded pieces

Nothing outside ``transport`` touches httpcore; httpx and httpcore are used through their
public APIs only.
"""

from feeds.fetch.addresses import checked_addresses, is_public_address
from feeds.fetch.client import ACCEPT, Fetcher, HubResult
from feeds.fetch.gate import HostGate, host_key

__all__ = [
    "ACCEPT",
    "Fetcher",
    "HostGate",
    "HubResult",
    "checked_addresses",
    "host_key",
    "is_public_address",
]
