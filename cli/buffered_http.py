"""waitress, made to hold no thread for a slow client: whole requests buffered under a deadline, JSON errors.

waitress's I/O thread reads every request whole (headers and body) before a worker thread sees it, so a slow
sender costs a connection slot, not a thread. These subclasses add what it lacks:
- a total deadline per request (`read_seconds`): headers and body must have arrived that long after the
  request's first byte, else 408 (waitress's own `channel_timeout` only closes *silent* connections);
- framing errors it answers itself (bad chunk size, unterminated chunk, header too large, body too large) get
  our JSON error body and a 4xx, never its text/plain or a 5xx (an unknown transfer coding is a 400 here);
- a request with both Content-Length and Transfer-Encoding, or Transfer-Encoding outside HTTP/1.1, is a 400
  (the two framings disagree: request smuggling);
- at most `stored_body_bytes` of a body are kept: the rest is read and dropped, so the app still answers a
  body over its limit with its own 413 after the client sent it all, and no client can fill memory or disk.
"""
from __future__ import annotations

import json
import time

from waitress.buffers import OverflowableBuffer
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser, ParsingError
from waitress.server import TcpWSGIServer
from waitress.task import ErrorTask
from waitress.utilities import (BadRequest, Error, InternalServerError, RequestEntityTooLarge,
                                RequestHeaderFieldsTooLarge, ServerNotImplemented)

MAX_CHUNK_LINE_BYTES = 4096  # a chunk's size line, extensions included


class RequestTimedOut(Error):
    code, reason = 408, "Request Timeout"


# waitress's error -> (status line, our error code); the first class the error is an instance of wins
_ANSWERS = (
    (RequestTimedOut, "408 Request Timeout", "request_timeout"),
    (RequestHeaderFieldsTooLarge, "431 Request Header Fields Too Large", "headers_too_large"),
    (RequestEntityTooLarge, "413 Request Entity Too Large", "payload_too_large"),
    (ServerNotImplemented, "400 Bad Request", "unsupported_transfer_encoding"),  # no input gets a 5xx
    (BadRequest, "400 Bad Request", "malformed_request"),
    (InternalServerError, "500 Internal Server Error", "internal_error"),
)


class JsonErrorTask(ErrorTask):
    """waitress's error answer as `{"error": ..., "detail": ...}`; the connection closes after it."""

    def execute(self) -> None:
        error = self.request.error
        status, code = next(((status, code) for kind, status, code in _ANSWERS if isinstance(error, kind)),
                            ("400 Bad Request", "malformed_request"))
        detail = "something went wrong on our side; it has been logged" if code == "internal_error" \
            else f"the request cannot be read: {error.body}"
        body = json.dumps({"error": code, "detail": detail}).encode()
        self.status = status
        self.response_headers.append(("Content-Type", "application/json"))
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


class CappedBuffer(OverflowableBuffer):
    """Keeps the first `cap` bytes appended and counts (then drops) the rest."""

    def __init__(self, overflow: int, cap: int):
        super().__init__(overflow)
        self.cap, self.dropped = cap, 0

    def append(self, data: bytes) -> None:
        room = self.cap - len(self)
        if len(data) > room:
            self.dropped += len(data) - max(room, 0)
            data = data[:max(room, 0)]
        if data:
            super().append(data)


class BoundedParser(HTTPRequestParser):
    """One request; refuses disagreeing framings and stores at most `stored_body_bytes` of the body."""

    def __init__(self, adj, stored_body_bytes: int):
        super().__init__(adj)
        self.stored_body_bytes = stored_body_bytes

    def parse_header(self, header_plus: bytes) -> None:
        super().parse_header(header_plus)  # pops Transfer-Encoding from HTTP/1.1 headers when it is chunked
        if self.chunked and "CONTENT_LENGTH" in self.headers:
            raise ParsingError("both Content-Length and Transfer-Encoding are set")
        if "TRANSFER_ENCODING" in self.headers:
            raise ParsingError("Transfer-Encoding is only allowed in an HTTP/1.1 request")
        if self.body_rcv is not None:
            self.body_rcv.buf = CappedBuffer(self.adj.inbuf_overflow, self.stored_body_bytes)

    def received(self, data: bytes) -> int:
        consumed = super().received(data)
        if self.chunked and not self.completed:
            self._check_chunking(self.body_rcv)
        kept = self.body_rcv.buf if self.body_rcv is not None else None
        if self.completed and self.chunked and getattr(kept, "dropped", 0):
            # the de-chunked length the app sees is the body's real size, not what was kept of it
            self.headers["CONTENT_LENGTH"] = str(len(kept) + kept.dropped)
        return consumed


    def _check_chunking(self, chunks) -> None:
        """waitress waits for a chunk of any declared size, and for a size line or trailer of any length
        (re-joining it at every read): a size past the body limit is a 413 now, a line that long a 400."""
        if chunks.chunk_remainder > self.adj.max_request_body_size - self.body_bytes_received:
            self.error = RequestEntityTooLarge(f"a chunk of {chunks.chunk_remainder} bytes is declared")
        elif len(chunks.control_line) > MAX_CHUNK_LINE_BYTES or len(chunks.trailer) > self.adj.max_request_header_size:
            self.error = BadRequest("a chunk size line or the trailer does not end")
        else:
            return
        self.completed = True


class DeadlineChannel(HTTPChannel):
    """One connection; remembers when the request being read began, so the server can time it out."""

    error_task_class = JsonErrorTask
    request_began: float | None = None

    def __init__(self, server, sock, addr, adj, map=None):
        super().__init__(server, sock, addr, adj, map=map)
        self.parser_class = lambda adj: BoundedParser(adj, server.stored_body_bytes)

    def received(self, data: bytes) -> bool:
        if data and self.request is None:
            self.request_began = time.monotonic()
        result = super().received(data)
        if self.request is None:  # every request read so far is whole
            self.request_began = None
        return result

    def time_out_request(self) -> None:
        """Answer the request still being read with 408 and close (called in the I/O thread)."""
        with self.requests_lock:
            if self.request is None or self.will_close or self.close_when_flushed:
                return
            self.request.close()  # its partial body
            timed_out = self.parser_class(self.adj)
            timed_out.parse_header(b"GET / HTTP/1.0\r\n")
            timed_out.error = RequestTimedOut(
                f"it did not arrive whole within {self.server.read_seconds:g} seconds")
            timed_out.completed = True
            self.request, self.request_began = None, None
            self.requests.append(timed_out)
            if len(self.requests) == 1:  # else the request in service queues it when it is done
                self.server.add_task(self)


class DeadlineServer(TcpWSGIServer):
    """The listening socket; its once-a-second maintenance also cuts requests read for too long."""

    channel_class = DeadlineChannel

    def __init__(self, application, *, read_seconds: float, stored_body_bytes: int, **kwargs):
        self.read_seconds, self.stored_body_bytes = read_seconds, stored_body_bytes
        super().__init__(application, **kwargs)

    def maintenance(self, now: float) -> None:
        super().maintenance(now)  # closes connections silent for `channel_timeout`
        cutoff = time.monotonic() - self.read_seconds
        for channel in list(self.active_channels.values()):
            began = getattr(channel, "request_began", None)
            if began is not None and began < cutoff:
                channel.time_out_request()

    def busy(self) -> bool:
        """Whether a request is being served or an answer is still being sent."""
        return any(channel.requests or channel.total_outbufs_len for channel in self.active_channels.values())
