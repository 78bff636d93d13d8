"""/healthz and /readyz, for balancers and process supervisors.

- GET /healthz: 200 while the process answers HTTP. Touches no database, no
  Redis: a balancer that restarts on it never restarts a worker for an
  outage elsewhere.
- GET /readyz: 200 when everything this process needs answers — the
  database, the event log (django-eventstream's tables in it), Redis when
  REDIS_URL is set, the Pushpin of GRIP_URL when set; else 503 with JSON
  naming each one that is down and why. The balancer sends traffic only to
  a worker whose /readyz answers 200. With several Pushpins (one per
  machine, or several on one) a worker is ready while at least one answers:
  the others are named under "degraded" (a machine that is down must not
  take the other machine's workers out; the streams its Pushpin held
  reconnect to a Pushpin that is up and resume from the log).

Both are unauthenticated and cheap (a query or two, a Redis PING, one small
HTTP request per Pushpin, each with a timeout of READY_TIMEOUT_SECONDS), and
answer with Cache-Control: no-store. No secret (a URL's password) is ever in
an answer.
"""

from __future__ import annotations

import urllib.error
import urllib.request

import redis
from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.http import require_safe
from django_eventstream.models import Event as StoredEvent
from django_eventstream.models import EventCounter

_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _no_store(response: JsonResponse) -> JsonResponse:
    response["Cache-Control"] = "no-store"
    return response


@require_safe
def healthz(request):
    return _no_store(JsonResponse({"status": "ok"}))


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_event_log() -> None:
    EventCounter.objects.filter(name="").exists()
    StoredEvent.objects.filter(channel="", eid=0).exists()


def check_redis() -> None:
    client = redis.Redis.from_url(
        settings.REDIS_URL,
        socket_connect_timeout=settings.READY_TIMEOUT_SECONDS,
        socket_timeout=settings.READY_TIMEOUT_SECONDS,
    )
    try:
        client.ping()
    finally:
        client.close()


def check_pushpin(control_uri: str) -> None:
    """Pushpin's publish endpoint answers HTTP (any status: it is up)."""
    try:
        with _DIRECT.open(control_uri.rstrip("/") + "/", timeout=settings.READY_TIMEOUT_SECONDS):
            pass
    except urllib.error.HTTPError:
        pass


def checks() -> dict:
    found = {"database": check_database, "event_log": check_event_log}
    if settings.REDIS_URL:
        found["redis"] = check_redis
    proxies = settings.GRIP_PROXIES
    for n, proxy in enumerate(proxies):
        name = "pushpin" if len(proxies) == 1 else f"pushpin-{n + 1}"
        found[name] = lambda uri=proxy["control_uri"]: check_pushpin(uri)
    return found


def _reason(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}"[:200] if text else type(exc).__name__


@require_safe
def readyz(request):
    results, failed = {}, {}
    for name, check in checks().items():
        try:
            check()
        except Exception as exc:  # each dependency's own failure, whatever its kind
            failed[name] = _reason(exc)
            results[name] = "down"
        else:
            results[name] = "ok"
    pushpins = [name for name in results if name.startswith("pushpin")]
    degraded = {}
    if any(results[name] == "ok" for name in pushpins):
        degraded = {name: failed.pop(name) for name in pushpins if name in failed}
    if failed:
        body = {
            "status": "unavailable",
            "message": "Not ready: " + ", ".join(failed) + " down",
            "down": failed,
            "checks": results,
        }
        return _no_store(JsonResponse(body | ({"degraded": degraded} if degraded else {}), status=503))
    body = {"status": "ready", "checks": results} | ({"degraded": degraded} if degraded else {})
    return _no_store(JsonResponse(body))
