"""ASGI entry of the experiments: config/asgi.py's routing, with the
variant named by EXP_* variables applied in memory (never to the files):

EXP_WSGI=1     the REST API served as WSGI through asgiref's WsgiToAsgi, one
               thread per request and no async/sync switch per middleware
EXP_LEAN=1     the three events of a confirmation published in one
               transaction, through bench.experiments.lean_storage
EXP_TICKER=1   keep-alives sent when a stream has been silent for
               interval - tick, not interval (no tick-quantised lateness)
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.experiments.settings")

from django.core.asgi import get_asgi_application  # noqa: E402

django_application = get_asgi_application()

from events.transport.stream import events_app  # noqa: E402

if os.environ.get("EXP_WSGI") == "1":
    from asgiref.sync import ThreadSensitiveContext
    from asgiref.wsgi import WsgiToAsgi
    from django.core.wsgi import get_wsgi_application

    _wsgi = WsgiToAsgi(get_wsgi_application())

    async def django_application(scope, receive, send):  # noqa: F811
        async with ThreadSensitiveContext():
            await _wsgi(scope, receive, send)


if os.environ.get("EXP_LEAN") == "1":
    from django.db import transaction

    import events.outbox.receivers as receivers

    _publish_confirmed_order = receivers.publish_confirmed_order

    def publish_confirmed_order(order_id):
        with transaction.atomic():
            _publish_confirmed_order(order_id)

    receivers.publish_confirmed_order = publish_confirmed_order


if os.environ.get("EXP_TICKER") == "1":
    import asyncio

    from django.conf import settings

    from events.core import log
    from events.transport import hub as hub_module

    async def _ticker(self):
        keepalive = settings.EVENTS_KEEPALIVE_SECONDS
        poll = settings.EVENTS_POLL_SECONDS
        tick = min(1.0, keepalive / 4, poll)
        next_tick = self.loop.time() + tick
        next_poll = self.loop.time() + poll
        while True:
            await asyncio.sleep(max(0.0, next_tick - self.loop.time()))
            next_tick += tick  # anchored: work done in a tick does not push the next one back
            now = self.loop.time()
            for subscribers in self.subscribers.values():
                for subscriber in subscribers:
                    # Due one tick early rather than up to a tick (and the write's delay) late.
                    if now - subscriber.last_write >= keepalive - tick and not subscriber.frames:
                        subscriber.push(None, hub_module.KEEPALIVE_FRAME)
            if now >= next_poll:
                next_poll = now + poll
                try:
                    heads = await hub_module.in_thread(log.head_ids, hub_module.CHANNELS)
                except Exception:
                    continue
                for channel, head in heads.items():
                    if head > self.last_ids[channel]:
                        self.request_check(channel)

    hub_module.Hub._ticker = _ticker


async def application(scope, receive, send):
    if scope["type"] == "http" and (scope["path"] == "/events" or scope["path"].startswith("/events/")):
        await events_app(scope, receive, send)
    else:
        await django_application(scope, receive, send)
