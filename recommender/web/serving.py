"""How uvicorn runs the page: connection limits and timeouts, one-line logs, and stderr without control characters.

The aim is a server that a few hundred idle or slow connections cannot stop, on a user's usual limit of 256 open
files, and that says so in a line now and then instead of a traceback per connection.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from typing import Any, TextIO

from ..schema import printable

HEADER_TIMEOUT = 10.0  # seconds from connecting, or from a request's first byte, to its last header line
KEEP_ALIVE = 5  # seconds an idle connection is kept after a response
MAX_HEADER_BYTES = 32 * 1024  # the request line and headers together
MAX_CONNECTIONS = 1000  # above the 200 idle connections the targets hold open, beside a page being used
FILE_RESERVE = 64  # descriptors kept for what the server opens itself: databases, listings, the model
LOG_EVERY = 10.0  # seconds before the same log line is printed again
LOG_FORMAT = "paperrec serve: %(message)s"


def descriptor_limit() -> int:
    """Raise the soft limit on open files to the hard one (at most 65536) and return the limit now in force."""
    try:
        import resource
    except ImportError:  # not a POSIX system: its default is what we have
        return 512
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    ceiling = 65536 if hard == resource.RLIM_INFINITY else min(hard, 65536)
    if soft != resource.RLIM_INFINITY and soft < ceiling:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (ceiling, hard))
            soft = ceiling
        except (ValueError, OSError):
            pass
    return 65536 if soft == resource.RLIM_INFINITY else soft


def connection_limit(descriptors: int) -> int:
    """Connections served at once: beyond it uvicorn answers 503 at once, before the descriptors run out."""
    return max(16, min(MAX_CONNECTIONS, descriptors - FILE_RESERVE))


class OneLine(logging.Filter):
    """Each record as one line without its traceback; a line already printed in the last LOG_EVERY s is dropped."""

    def __init__(self) -> None:
        super().__init__()
        self.printed: dict[str, float] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_info = record.exc_text = record.stack_info = None
        line = record.getMessage()
        now = time.monotonic()
        if now - self.printed.get(line, -LOG_EVERY) < LOG_EVERY:
            return False
        if len(self.printed) > 1000:
            self.printed.clear()
        self.printed[line] = now
        return True


class CleanStream:
    """A text stream that writes every line without its control characters and terminal escapes."""

    def __init__(self, stream: TextIO):
        self.stream = stream

    def write(self, text: str) -> int:
        self.stream.write("\n".join(printable(line) for line in text.split("\n")))
        return len(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


def log_config() -> dict[str, Any]:
    """uvicorn's loggers and asyncio's on one stderr handler, one line each, no access log."""
    handler = {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["one_line"]}
    handler["stream"] = "ext://sys.stderr"
    quiet = {"handlers": ["stderr"], "level": "WARNING", "propagate": False}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"one_line": {"()": OneLine}},
        "formatters": {"plain": {"format": LOG_FORMAT}},
        "handlers": {"stderr": handler},
        "loggers": {"uvicorn": quiet, "uvicorn.access": {"handlers": [], "propagate": False}, "asyncio": quiet},
    }


def protocol() -> type[asyncio.Protocol]:
    """uvicorn's HTTP/1.1 protocol, closing a connection whose request headers do not arrive in HEADER_TIMEOUT."""
    import h11
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class Protocol(H11Protocol):
        header_timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._arm()

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            if self.conn.their_state is h11.IDLE:
                self._arm()  # a request begun and not yet whole: its clock runs from its first byte
            else:
                self._disarm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _arm(self) -> None:
            if self.header_timer is None:
                self.header_timer = self.loop.call_later(HEADER_TIMEOUT, self._too_slow)

        def _disarm(self) -> None:
            if self.header_timer is not None:
                self.header_timer.cancel()
                self.header_timer = None

        def _too_slow(self) -> None:
            self.header_timer = None
            if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
                self.transport.close()  # quietly: a silent client gets no answer and no log line

    return Protocol


def _loop_error(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """asyncio's complaints (out of descriptors on accept, say) as one rate-limited line instead of a traceback."""
    error = context.get("exception")
    logging.getLogger("uvicorn.error").warning("%s%s", context.get("message", "error"), f": {error}" if error else "")


def serve_app(app: Any, host: str, port: int) -> None:
    """Run uvicorn on host:port with the limits above until interrupted, stderr cleaned meanwhile."""
    import uvicorn

    stderr, sys.stderr = sys.stderr, CleanStream(sys.stderr)  # type: ignore[assignment]
    try:
        _serve(uvicorn, app, host, port)
    finally:
        sys.stderr = stderr


def _serve(uvicorn: Any, app: Any, host: str, port: int) -> None:
    connections = connection_limit(descriptor_limit())
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        http=protocol(),
        loop="asyncio",
        lifespan="off",
        log_config=log_config(),
        log_level="warning",
        access_log=False,
        limit_concurrency=connections,
        timeout_keep_alive=KEEP_ALIVE,
        h11_max_incomplete_event_size=MAX_HEADER_BYTES,
    )
    server = uvicorn.Server(config)

    async def main() -> None:
        asyncio.get_running_loop().set_exception_handler(_loop_error)
        await server.serve()

    asyncio.run(main())
