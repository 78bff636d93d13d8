"""How the events app runs blocking work (the database) from the event loop:
in a thread of its own, never the loop's. Imports nothing of the project."""

from __future__ import annotations

from asgiref.sync import sync_to_async


def in_thread(func, *args):
    return sync_to_async(func, thread_sensitive=False)(*args)
