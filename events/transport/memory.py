"""Giving freed memory back to the system after streams close.

glibc's malloc keeps the heap it freed (a replay's pages, a slow client's
unsent frames) mapped for later use, so a process that served a burst of
large replays keeps their size in RSS long after the clients left.
`malloc_trim(0)` hands the free pages back.

Invariant: at most one trim per TRIM_DELAY seconds per process, run on the
event loop TRIM_DELAY seconds after a stream closed (a burst of closes costs
one trim), and only where the C library has malloc_trim (glibc); elsewhere
this does nothing."""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import functools
import logging

logger = logging.getLogger(__name__)

TRIM_DELAY = 1.0


@functools.cache
def _malloc_trim():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):
        return None  # not glibc (musl has no malloc_trim)
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


class Trimmer:
    """One per hub: `stream_closed` schedules a trim unless one is due."""

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.loop = loop
        self.pending: asyncio.TimerHandle | None = None

    def stream_closed(self) -> None:
        if self.pending is None and _malloc_trim() is not None:
            self.pending = self.loop.call_later(TRIM_DELAY, self._trim)

    def _trim(self) -> None:
        self.pending = None
        try:
            _malloc_trim()(0)
        except Exception as exc:  # never let housekeeping break the loop
            logger.warning("malloc_trim failed: %s", exc)

    def cancel(self) -> None:
        if self.pending is not None:
            self.pending.cancel()
            self.pending = None
