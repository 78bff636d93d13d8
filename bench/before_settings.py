"""Settings of the baseline of bench/unread_responses.py: the project's, with
the URLconf of bench/before_urls.py (the orders list and the schema view as
they were before)."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.before_urls"
