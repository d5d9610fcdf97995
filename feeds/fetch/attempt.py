"""One fetch (or hub ping) in progress, from its first request to its ``FetchResult``.

- Each request waits for its host's slot (``gate``), within the fetch's deadline.
- Redirects are followed by hand: at most ``max_redirects``, never in a loop, each hop to an
  http(s) URL and a checked address; the move is permanent only when every hop was a 301 or
  308 and the last answer was not an error.
- A 304 keeps the validators sent unless it brings new ones; its (empty) message is read to
  its end, so that its connection goes back to the pool.
- A body is read within the deadline and the size cap, counted after decompression
  (``decode``); a declared Content-Length over the cap fails before reading.
- Validators (ETag, Last-Modified) that are not printable ASCII are neither returned nor
  sent: httpx reads response headers as latin-1 but cannot send them back.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from feeds.errors import FetchError
from feeds.fetch.addresses import parse_url
from feeds.fetch.deadline import Deadline
from feeds.fetch.decode import Decoder
from feeds.fetch.gate import HostGate, Slot, host_key
from feeds.fetch.transport import Transport
from feeds.types import ErrorKind, FetchResult, FetchSettings, FetchStatus
from feeds.urls import redact_urls

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
PERMANENT_STATUSES = frozenset({301, 308})

Headers = list[tuple[str, str]]

MAX_BYTES_HINT = "site.toml's [fetch] max_bytes allows more"


def reason(response: httpx.Response) -> str:
    """The standard reason phrase of the response's status, else the one the server sent."""
    return httpx.codes.get_reason_phrase(response.status_code) or response.reason_phrase.strip()


class Attempt:
    """The state of one fetch: deadline, current URL, redirect history, bytes read."""

    __slots__ = (
        "deadline",
        "gate",
        "http_status",
        "permanent",
        "redirected",
        "settings",
        "size",
        "transport",
        "url",
    )

    def __init__(
        self, url: str, settings: FetchSettings, gate: HostGate, transport: Transport
    ) -> None:
        self.url = url
        self.settings = settings
        self.gate = gate
        self.transport = transport
        self.deadline = Deadline(settings.deadline)
        self.size = 0
        self.permanent = True  # every hop so far was a 301/308
        self.redirected = False
        self.http_status: int | None = None  # of the latest response

    # ----------------------------------------------------------------- driving

    def run(self, headers: Headers, etag: str | None, last_modified: str | None) -> FetchResult:
        """GET the URL with `headers` (conditionally), following redirects; raises on failure."""
        etag, last_modified = _validator(etag), _validator(last_modified)
        if etag or last_modified:
            headers = [*headers, *_conditional_headers(etag, last_modified).items()]
        url = parse_url(self.url)
        seen = {str(url)}
        for _ in range(self.settings.max_redirects + 1):
            with self._open(url, headers) as response:
                location = self._redirect_location(response)
                if location is None:
                    return self._finish(response, etag, last_modified)
            url = location
            hop = str(url)
            if hop in seen:
                raise FetchError(
                    f"redirect loop: {self.url} redirects back to {hop}", ErrorKind.REDIRECTS
                )
            seen.add(hop)
        raise FetchError(
            f"more than {self.settings.max_redirects} redirects (last to {url}; "
            "site.toml's [fetch] max_redirects allows more)",
            ErrorKind.REDIRECTS,
        )

    def open_url(
        self, headers: Headers, method: str = "GET", content: bytes | None = None
    ) -> Exchange:
        """One request to `self.url`, no redirects followed."""
        return self._open(parse_url(self.url), headers, method, content)

    def _open(
        self,
        url: httpx.URL,
        headers: Headers,
        method: str = "GET",
        content: bytes | None = None,
    ) -> Exchange:
        self.url = str(url)
        key = host_key(url)
        gate = self.gate
        if not gate.acquire(key, self.deadline.at):
            raise self.deadline.error(
                f"while waiting to send a request to host {key}"
                f" (at most {gate.per_host} at once, {gate.spacing:g}s apart)"
            )
        slot = Slot(gate, key)
        try:
            remaining = self.deadline.at - time.monotonic()
            if remaining <= 0:
                raise self.timeout_error()
            # Connect, TLS, reads and writes are bounded by the network backend; the pool
            # timeout bounds waiting for a free connection.
            request = httpx.Request(
                method,
                url,
                headers=headers,
                content=content,
                extensions={"timeout": {"pool": remaining}},
            )
            response = self.transport.handle_request(request)
            response.request = request
            return Exchange(self, response, slot)
        except BaseException:
            slot.release()
            raise

    def _redirect_location(self, response: httpx.Response) -> httpx.URL | None:
        if response.status_code not in REDIRECT_STATUSES:
            return None
        location = response.headers.get("location")
        if not location:
            return None
        try:
            hop = response.url.join(location)
        except (httpx.InvalidURL, ValueError) as exc:
            raise FetchError(
                f"invalid redirect Location {location!r}", ErrorKind.REDIRECTS
            ) from exc
        self.redirected = True
        self.permanent = self.permanent and response.status_code in PERMANENT_STATUSES
        return hop

    # ----------------------------------------------------------------- answers

    def _finish(
        self, response: httpx.Response, etag: str | None, last_modified: str | None
    ) -> FetchResult:
        code = response.status_code
        headers = response.headers
        if code == 304:
            # A 304 has no body, but the connection goes back to the pool only once the end
            # of the message has been read: without this every conditional GET reconnects.
            for _ in response.iter_raw():
                self._check_deadline()
            return self._result(
                response,
                FetchStatus.NOT_MODIFIED,
                etag=_validator(headers.get("etag")) or etag,
                last_modified=_validator(headers.get("last-modified")) or last_modified,
            )
        if not 200 <= code < 300:
            problem = f"HTTP {code} {reason(response)}".rstrip()
            if code in REDIRECT_STATUSES:
                problem += " without a Location"
            return self._error(response, ErrorKind.HTTP, problem)
        body = self._read_body(response)
        return self._result(
            response,
            FetchStatus.OK,
            body=body,
            etag=_validator(headers.get("etag")),
            last_modified=_validator(headers.get("last-modified")),
        )

    def _read_body(self, response: httpx.Response) -> bytes:
        cap = self.settings.max_bytes
        decoder = Decoder(response.headers.get("content-encoding", ""))
        declared = response.headers.get("content-length", "")
        if decoder.identity and declared.isdigit() and int(declared) > cap:
            raise FetchError(
                f"body of {declared} bytes exceeds the {cap}-byte cap ({MAX_BYTES_HINT})",
                ErrorKind.TOO_LARGE,
            )
        body = bytearray()
        for raw in response.iter_raw():
            self._check_deadline()
            for piece in decoder.decode(raw):
                self.size += len(piece)
                if self.size > cap:
                    raise FetchError(
                        f"body exceeds the {cap}-byte cap ({MAX_BYTES_HINT})", ErrorKind.TOO_LARGE
                    )
                body += piece
            self._check_deadline()
        return bytes(body)

    def _check_deadline(self) -> None:
        if self.deadline.expired():
            raise self.timeout_error()

    def timeout_error(self, during: str = "") -> FetchError:
        """The TIMEOUT error of this fetch, by default saying how many bytes were read."""
        return self.deadline.error(during or f"after {self.size} bytes")

    # ----------------------------------------------------------------- results

    def _result(self, response: httpx.Response, status: FetchStatus, **fields: Any) -> FetchResult:
        moved = self.redirected and self.permanent and status is not FetchStatus.ERROR
        headers = response.headers
        url = self.url
        return FetchResult(
            status=status,
            url=url,
            http_status=response.status_code,
            content_type=headers.get("content-type"),
            permanent_url=url if moved else None,
            duration=time.monotonic() - self.deadline.start,
            size=self.size,
            retry_after=headers.get("retry-after"),
            headers=tuple(headers.multi_items()),
            **fields,
        )

    def _error(self, response: httpx.Response, kind: ErrorKind, message: str) -> FetchResult:
        return self._result(
            response, FetchStatus.ERROR, error=redact_urls(message), error_kind=kind
        )

    def failure(self, kind: ErrorKind, message: str) -> FetchResult:
        """The result of this fetch failing with `message` (no answer, or one not usable)."""
        return FetchResult(
            status=FetchStatus.ERROR,
            url=self.url,
            http_status=self.http_status,
            error=redact_urls(message),  # error texts reach pages, logs and webhooks
            error_kind=kind,
            duration=time.monotonic() - self.deadline.start,
            size=self.size,
        )


class Exchange:
    """A streamed response; on exit closes it (the connection returns to the pool when the
    message was read to its end) and frees its host slot."""

    __slots__ = ("response", "slot")

    def __init__(self, attempt: Attempt, response: httpx.Response, slot: Slot) -> None:
        self.response = response
        self.slot = slot
        attempt.http_status = response.status_code

    def __enter__(self) -> httpx.Response:
        return self.response

    def __exit__(self, *exc: object) -> None:
        try:
            self.response.close()
        finally:
            self.slot.release()


def _validator(value: str | None) -> str | None:
    """`value` if it can be sent back as a request header (printable ASCII), else None."""
    if value and value.isascii() and value.isprintable():
        return value
    return None


def _conditional_headers(etag: str | None, last_modified: str | None) -> dict[str, str]:
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    return headers
