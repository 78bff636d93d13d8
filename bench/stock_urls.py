"""The stock django-eventstream view, as its README mounts it, and a trigger.

GET  /stock-events/<channel>          django_eventstream.views.events, untouched
POST /stock-trigger/<channel>?size=N  send_event() of one `confirmed-order`
                                      whose JSON is N bytes (the size of our
                                      printer payload), stored like ours
GET  /health                          200
"""

import json

from django.http import JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django_eventstream import send_event
from django_eventstream.views import events

_seq = 0


def _payload(seq: int, size: int) -> dict:
    base = len(json.dumps({"id": seq, "pad": ""}))
    return {"id": seq, "pad": "x" * max(0, size - base)}


@csrf_exempt
def trigger(request, channel: str):
    global _seq
    _seq += 1
    send_event(channel, "confirmed-order", _payload(_seq, int(request.GET.get("size", "1024"))))
    return JsonResponse({"id": _seq})


def health(request):
    return JsonResponse({"ok": True})


urlpatterns = [
    path("stock-events/<str:channel>", events),
    path("stock-trigger/<str:channel>", trigger),
    path("health", health),
]
