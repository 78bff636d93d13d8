"""Operations: what an operator and the machines around the server need from
it, apart from ordering itself.

One concern a module:

- `proxies`: the client's real address and scheme behind trusted proxies
  (an ASGI middleware, outermost, so Django, django-axes, the streams and
  the access log all see the same address).
- `requestlog`: the request id (X-Request-ID) and one access line per
  request; `logging` formats every log line (text for a person, JSON for
  a collector).
- `health`: /healthz (the process) and /readyz (what it depends on).
- `metrics`: the Prometheus figures and /metrics.
- `startup`: a database that cannot be reached at start is one line.
- `backups`: `manage.py backup` and `manage.py restore`.
- `patches`: where the project leans on a library's private internals, one
  module per library, each with the version it was written for.

Dependencies run one way: `proxies`, `logging`, `metrics` and `patches`
import nothing of the project (the apps import `metrics` to count what they
do, and `patches` to reach a library's internals); the rest may read the
apps' models and settings, never the other way round.
"""
