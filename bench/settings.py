"""Settings of the stock django-eventstream baseline: the project's settings
(same database engine, middleware, DjangoModelStorage), with a URLconf that
mounts the library's own `events` view instead of our endpoint."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.stock_urls"
