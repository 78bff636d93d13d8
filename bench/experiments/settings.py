"""Settings of the experiments: the project's, plus what a variant asks for
through EXP_* variables. Only `python bench/experiments/run.py` uses it."""

import os

from config.settings import *  # noqa: F403
from config.settings import DATABASES

if os.environ.get("EXP_POOL") == "1" and DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # Django 5.1+'s own pool (psycopg_pool): a few connections shared by the
    # request threads instead of one new connection per request.
    DATABASES["default"]["OPTIONS"] = {"pool": {"min_size": 2, "max_size": 10}}

if os.environ.get("EXP_LEAN") == "1":
    EVENTSTREAM_STORAGE_CLASS = "bench.experiments.lean_storage.LeanStorage"
