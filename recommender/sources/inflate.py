"""Decompression of an answer's gzip or zlib body, bounded by the room left under the client's size cap."""

from __future__ import annotations

import zlib
from collections.abc import Iterator


class Inflater:
    """Incremental gzip/zlib decoding that never yields more than the room left, members concatenated (RFC 1952)."""

    def __init__(self) -> None:
        # 32 + MAX_WBITS reads a gzip or a zlib header; deflate without one fails as a damaged body.
        self._decoder = zlib.decompressobj(32 + zlib.MAX_WBITS)
        self._started = False

    @property
    def complete(self) -> bool:
        return self._decoder.eof or not self._started

    def pieces(self, data: bytes, room: int) -> Iterator[bytes]:
        """Decompressed pieces of `data`, at most room + 1 bytes in all, so a bomb stops at the cap."""
        while data:
            if self._decoder.eof:
                data = data.lstrip(b"\0")  # zero padding after a member, as gzip(1) allows
                if not data:
                    return
                self._decoder = zlib.decompressobj(32 + zlib.MAX_WBITS)
            self._started = True
            out = self._decoder.decompress(data, room + 1)
            yield out
            room -= len(out)
            if room < 0:
                return
            data = self._decoder.unconsumed_tail or (self._decoder.unused_data if self._decoder.eof else b"")
