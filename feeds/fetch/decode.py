"""Bounded decoding of a response body's Content-Encoding (gzip, deflate, identity).

Bodies are inflated here, in pieces of at most ``PIECE`` bytes, rather than by httpx (which
inflates a whole network read at once: 64 KB of gzip can become 64 MB), so the caller can
count the decompressed bytes against its size cap as they come and never holds more than the
cap. ``deflate`` is tried as a zlib stream first, then as the raw deflate stream that many
servers send under that name. Anything after the end of a compressed stream is ignored.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import Any

from feeds.errors import FetchError
from feeds.types import ErrorKind

PIECE = 64 * 1024  # the largest piece of decompressed body produced at once


class Decoder:
    """Inflates a gzip/deflate body in pieces of at most PIECE bytes.

    Raises FetchError (DECODE) for an unsupported encoding or a corrupt body.
    """

    def __init__(self, content_encoding: str) -> None:
        self.encoding = content_encoding.strip().lower()
        self._raw_deflate_tried = False
        self._zlib: Any = None  # zlib._Decompress, not exposed by typeshed under a public name
        if self.encoding in ("gzip", "x-gzip"):
            self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif self.encoding == "deflate":
            self._zlib = zlib.decompressobj(zlib.MAX_WBITS)
        elif self.encoding not in ("", "identity"):
            raise FetchError(f"unsupported Content-Encoding {content_encoding!r}", ErrorKind.DECODE)
        self._started = False

    @property
    def identity(self) -> bool:
        """True when the body is sent as is (its Content-Length is its decoded size)."""
        return self._zlib is None

    def decode(self, data: bytes) -> Iterator[bytes]:
        """The decoded pieces of the next bytes `data` of the body."""
        if self._zlib is None:
            if data:
                yield data
            return
        try:
            yield from self._inflate(data)
        except zlib.error as exc:
            if self.encoding == "deflate" and not self._started and not self._raw_deflate_tried:
                # "deflate" is often sent as a raw deflate stream without the zlib header.
                self._raw_deflate_tried = True
                self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
                yield from self.decode(data)
                return
            raise FetchError(
                f"cannot decode {self.encoding} body: {exc}", ErrorKind.DECODE
            ) from exc

    def _inflate(self, data: bytes) -> Iterator[bytes]:
        while not self._zlib.eof:  # anything after the end of the stream is ignored
            out: bytes = self._zlib.decompress(data, PIECE)
            if out:
                self._started = True
                yield out
            data = self._zlib.unconsumed_tail
            if not data and len(out) < PIECE:
                return
