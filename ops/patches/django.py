"""Django's internals this project relies on (Django 5.2.19).

- A model instance's prefetch cache (`_prefetched_objects_cache`, keyed by
  the relation's accessor) holding querysets already read (`_result_cache`,
  `_prefetch_done`): `hold_prefetched` leaves on an order the lines and
  stations' states a service has just written, as `prefetch_related` would
  have loaded them, so the events of its save are built without reading
  them again (orders/services.py); `has_prefetched` is how the receivers
  tell (events/outbox/receivers.py). Django has no public way to fill that cache
  but a query.
- `SimpleLazyObject._wrapped`: `lazy_value` gives what a lazy object holds
  only if it was evaluated already: the access log names the user without
  running authentication for it (ops/requestlog.py).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Model, QuerySet
from django.utils.functional import SimpleLazyObject, empty

WRITTEN_FOR = "5.2.19"


def hold_prefetched(instance: Model, **related: tuple[QuerySet, list]) -> None:
    """Leave on `instance`, for each accessor name, the related `objects`
    as a prefetch of `rows` (the relation's queryset) would: read, never
    run. Replaces what was prefetched before."""
    cache = {}
    for name, (rows, objects) in related.items():
        rows._result_cache = objects
        rows._prefetch_done = True
        cache[name] = rows
    instance._prefetched_objects_cache = cache


def has_prefetched(instance: Model, *names: str) -> bool:
    """Whether every one of the relations `names` is prefetched on `instance`."""
    cached = getattr(instance, "_prefetched_objects_cache", {})
    return all(name in cached for name in names)


def lazy_value(value: Any) -> Any:
    """What `value` holds when it is a SimpleLazyObject: its object if it
    was evaluated, else None (it is not evaluated here); any other value
    as it is."""
    if isinstance(value, SimpleLazyObject):
        return None if value._wrapped is empty else value._wrapped
    return value
