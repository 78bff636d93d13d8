"""Django's ASGI handler, with a request's middleware and view run in one
hop to the request's thread.

Django's own ASGI handler builds its middleware chain for async. With this
project's middleware, the chain is sync (WhiteNoise and `ops.requestlog.Who`
are sync-only), so Django runs it in the request's thread, turns the
innermost handler back into a coroutine (a hop to the event loop), and from
there hops to the thread again for CsrfViewMiddleware's process_view, for
the view and for the rendering of a template response: four handoffs
between the loop and the thread per request that do nothing. This handler
builds the chain for sync, as a WSGI server would, and runs `get_response`
in the request's thread in one hop; reading the request's body, the
request_started and request_finished signals and sending the response stay
Django's ASGI handler's own.

No view or middleware of the project is a coroutine; one added later would
still run (Django adapts it with async_to_sync inside the thread), at the
cost of the hops this saves.

Invariant: a request's middleware, view and rendering run in one thread,
the request's own (thread_sensitive, in the request's ThreadSensitiveContext),
as they did.
"""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIHandler


class OneHopASGIHandler(ASGIHandler):
    def load_middleware(self, is_async: bool = False) -> None:
        super().load_middleware(is_async=False)

    async def get_response_async(self, request):
        return await sync_to_async(self.get_response, thread_sensitive=True)(request)


def application() -> OneHopASGIHandler:
    """What django.core.asgi.get_asgi_application returns, with this handler."""
    import django

    django.setup(set_prefix=False)
    return OneHopASGIHandler()
