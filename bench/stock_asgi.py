"""ASGI entry of the stock django-eventstream baseline: plain Django, no
events/transport/stream.py in front. `daphne bench.stock_asgi:application` with
DJANGO_SETTINGS_MODULE=bench.settings."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

application = get_asgi_application()
