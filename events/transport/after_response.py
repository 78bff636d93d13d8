"""Readers are woken after the response of the request that caused their
events has been handed to the server, never ahead of it.

Under Daphne the view runs in a thread and its transaction's on_commit
callbacks run there, before the view has even built its response; a wake-up
sent from there lets the hub's delivery to every open stream take the one
event loop ahead of the response (with 2,000 streams the cashier waited for
them all). `NotifyAfterResponse` wraps the Django application: while it
serves a request, `defer` keeps the request's wake-ups, and they are sent,
in the order they were deferred and in a thread (a Redis publish blocks),
right after the first piece of the response's body has gone to the server
(all of it unless the body is streamed, or over 64 KiB and paced by
config/pacing.py, which this wraps), or when the application ends without
one (an error, a cut connection). A wake-up may come with a part that
neither blocks nor touches the database (`here`: waking this process's own
hub); that part runs on the loop at that moment, before the thread starts.
Outside such a request (the admin under the test client, commands, the
hub's own threads) `defer` declines and the caller notifies at once.

Invariant: a deferral changes when readers are woken, never what they read.
An event is in the log before its wake-up is deferred (it is deferred from
the on_commit of the transaction that recorded it), every deferred wake-up
is sent once, and a wake-up never sent (the process was killed in between)
delays the event and loses nothing: the hubs' log poll and Pushpin's
recovery find it, as for any lost notification (events/outbox/publisher.py).

Imports nothing of the project but events.core.threads, so events.outbox.publisher may
import it.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
import threading
from collections.abc import Callable

from events.core.threads import in_thread

logger = logging.getLogger(__name__)


class _Wakeups:
    """The wake-ups one request deferred, until its response has been sent.
    The view's thread appends (it runs in a copy of the request's context,
    asgiref, holding this same object); the loop takes them once."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.wakes: list[Callable[[], None]] | None = []
        self.here: list[Callable[[], None]] = []
        self.batches: dict[Callable[[list], None], list] = {}

    def add(self, wake, here, batch) -> bool:
        with self.lock:
            if self.wakes is None:
                return False
            if wake is not None:
                self.wakes.append(wake)
            if here is not None:
                self.here.append(here)
            if batch is not None:
                func, item = batch
                self.batches.setdefault(func, []).append(item)
            return True

    def take(self) -> tuple[list[Callable[[], None]], list[Callable[[], None]]]:
        """Every deferred wake-up, once, as (its parts for the loop, its
        parts for a thread, each batch one call); later ones are not deferred."""
        with self.lock:
            wakes, self.wakes = self.wakes or [], None
            here, self.here = self.here, []
            batches, self.batches = self.batches, {}
        return here, wakes + [functools.partial(func, items) for func, items in batches.items()]


_current: contextvars.ContextVar[_Wakeups | None] = contextvars.ContextVar("events_deferred_wakeups", default=None)


def defer(
    wake: Callable[[], None] | None,
    here: Callable[[], None] | None = None,
    *,
    batch: tuple[Callable[[list], None], object] | None = None,
) -> bool:
    """Keep `wake` until the current request's response has been sent, and
    say so; False (nothing kept: the caller wakes its readers now) outside a
    request served through NotifyAfterResponse, or once its response has
    been sent. `here` runs on the loop just before the thread starts (it
    must not block); `batch`, a pair (func, item), joins the items deferred
    with the same func, in their order, into one call of func in the thread
    (a request's events in one Redis message). Any may be None; with no
    `wake` and no `batch` no thread is started."""
    wakeups = _current.get()
    return wakeups is not None and wakeups.add(wake, here, batch)


def _wake_all(wakes: list[Callable[[], None]]) -> None:
    for wake in wakes:
        try:
            wake()
        except Exception:
            # Notifications log their own failures; this guard only keeps one
            # failure from holding back the wake-ups after it.
            logger.exception("a deferred wake-up failed; the hubs' log poll delivers its event")


async def _send_deferred(wakeups: _Wakeups) -> None:
    here, wakes = wakeups.take()
    _wake_all(here)
    if wakes:
        # Shielded: a request cancelled meanwhile still wakes its readers.
        await asyncio.shield(asyncio.ensure_future(in_thread(_wake_all, wakes)))


class NotifyAfterResponse:
    """ASGI wrapper of the Django application: see the module's docstring."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        wakeups = _Wakeups()
        token = _current.set(wakeups)
        try:
            return await self.app(scope, receive, _SendThenWake(send, wakeups))
        finally:
            _current.reset(token)
            await _send_deferred(wakeups)


class _SendThenWake:
    """The `send` of one request: the deferred wake-ups go out right after
    the first piece of the response's body (the whole body when it is not
    streamed or paced in pieces): the response is then on its way, and a
    slow reader of a large one holds nobody's events."""

    def __init__(self, send, wakeups: _Wakeups):
        self.inner = send  # events/transport/backpressure.py finds Daphne's request through it
        self.wakeups = wakeups

    async def __call__(self, message: dict) -> None:
        await self.inner(message)
        if message["type"] == "http.response.body":
            await _send_deferred(self.wakeups)
