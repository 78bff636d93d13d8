"""Settings of the stock django-eventstream baseline: the project's settings
(same database engine, middleware, DjangoModelStorage), with a URLconf that
mounts the library's own `events` view instead of our endpoint."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.stock_urls"

# Stock means stock: the library's own storage, not the project's leaner one.
EVENTSTREAM_STORAGE_CLASS = "django_eventstream.storage.DjangoModelStorage"
