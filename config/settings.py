"""One settings module for every set-up.

Everything that differs between a laptop and a festival comes from environment
variables, read through the small typed helpers below; a bad value stops the
process at start-up instead of surfacing on a Saturday night.
"""

from __future__ import annotations

import os
import re
import secrets
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from gripcontrol import parse_grip_uri

from ops.logformat import logging_config
from ops.proxies import parse_networks

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), not {raw!r}")


def env_int(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {raw!r}") from None
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ImproperlyConfigured(f"{name} must be between {minimum} and {maximum}, not {value}")
    return value


def env_float(name: str, default: float, *, minimum: float = 0.0) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, not {raw!r}") from None
    if value <= minimum:
        raise ImproperlyConfigured(f"{name} must be greater than {minimum}, not {value}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def _secret_key() -> str:
    """DJANGO_SECRET_KEY, else a random key kept in var/ so that a local run
    keeps its sessions across restarts without a key in the repository."""
    key = os.environ.get("DJANGO_SECRET_KEY")
    if key:
        return key
    path = VAR_DIR / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(50)
        path.write_text(key)
        path.chmod(0o600)
        return key


SECRET_KEY = _secret_key()
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "config.admin_site.OrganiserAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "corsheaders",
    "axes",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_eventstream",
    "ops",
    "users",
    "idempotency",
    "orders",
    "events",
    "till",
    "screens",
    "printeragent",
]

MIDDLEWARE = [
    # First, so that every answer (a refusal or a sign-in lockout included)
    # carries the CORS headers a cross-origin SPA needs to read it.
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into a 429.
    "axes.middleware.AxesMiddleware",
    # The view's name and who asked, for the access line (ops/requestlog.py).
    "ops.requestlog.Who",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
# SQLite by default. WAL lets readers work beside the writer; IMMEDIATE
# transactions take the write lock at BEGIN, so two cashiers confirming at
# once queue on the busy timeout instead of failing with "database is locked"
# when a read lock is upgraded half-way through a transaction.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
        conn_max_age=0,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # A file, not pytest's shared in-memory database: threads and the Daphne
    # processes the tests start must all see the same data.
    DATABASES["default"]["TEST"] = {
        "NAME": env_str("TEST_SQLITE_PATH", str(VAR_DIR / f"test-{os.getpid()}.sqlite3")),
    }

elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A pool per process: a request, a stream's authentication or a read of
    # the event log borrows a connection and gives it back, instead of paying
    # for a new PostgreSQL session each time. Its size bounds the process's
    # connections, whatever the number of open streams.
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 0,
        "max_size": env_int("DATABASE_POOL_SIZE", 10, minimum=1),
        # How long a request waits for a connection before it is a 503.
        "timeout": 5,
        "max_idle": 60,
    }
if DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
    # One test database per run, so that two runs on one server never meet.
    DATABASES["default"]["TEST"] = {"NAME": env_str("TEST_DATABASE_NAME", f"test_ordering_{os.getpid()}")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "users.User"

AUTHENTICATION_BACKENDS = [
    # Checks passwords (it is Django's ModelBackend), counting each sign-in
    # from a request as a failure before the check; refuses every sign-in
    # (admin, /auth/login, /auth/token) while its username or its address
    # is locked out, the right password included.
    "users.backends.SignInThrottleBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

# Pages, admin and tickets speak Italian or English: the browser's choice
# (Accept-Language, through LocaleMiddleware) when it is one of LANGUAGES,
# else LANGUAGE_CODE. The API's wire formats never change with the language.
LANGUAGES = [("it", "Italiano"), ("en", "English")]
LANGUAGE_CODE = env_str("LANGUAGE_CODE", "it")
if LANGUAGE_CODE not in {code for code, _name in LANGUAGES}:
    raise ImproperlyConfigured(f"LANGUAGE_CODE must be one of it, en, not {LANGUAGE_CODE!r}")
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
# The festival's zone: pages, tickets and the service day read times in it.
TIME_ZONE = env_str("TIME_ZONE", "Europe/Rome")
try:
    ZoneInfo(TIME_ZONE)
except (ZoneInfoNotFoundError, ValueError):
    raise ImproperlyConfigured(f"TIME_ZONE {TIME_ZONE!r} is not a known time zone") from None

# The service day starts at this local hour: an order confirmed at 01:30 on
# Sunday belongs to Saturday night's numbering.
SERVICE_DAY_ROLLOVER_HOUR = env_int("SERVICE_DAY_ROLLOVER_HOUR", 6, minimum=0, maximum=23)

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

LOGIN_URL = "/login/"

# --- HTTPS ----------------------------------------------------------------
# HTTPS=1 when clients reach the site over HTTPS through a proxy that ends TLS
# and says so in X-Forwarded-Proto (nginx in docs/deploy.md): cookies are sent
# over HTTPS only, browsers are told to use nothing else (HSTS), and a request
# that came over plain HTTP is redirected. Off by default, so that `make run`
# serves http://127.0.0.1 as before. The proxy must set X-Forwarded-Proto on
# every request (overwriting the client's own), or a client could claim HTTPS.
HTTPS = env_bool("HTTPS", False)
if HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # A year, the site's subdomains included (HSTS_SECONDS=300 for a first
    # try: a browser that saw the header keeps refusing plain HTTP this long).
    SECURE_HSTS_SECONDS = env_int("HSTS_SECONDS", 365 * 24 * 3600, minimum=1)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("HSTS_PRELOAD", True)
CSRF_FAILURE_VIEW = "config.errors.csrf_failure"

# --- REST API -------------------------------------------------------------
REST_FRAMEWORK = {
    # The first entry is the Bearer authenticator: the events endpoint loads
    # it from here, so that streams get the same token checks as REST.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "users.authentication.BearerAuthentication",
        "users.apikeys.ApiKeyAuthentication",
        "screens.keys.ScreenKeyAuthentication",
        # Today's MySagra clients: the login token in the mysagra_session or
        # mysagra_token cookie (no CSRF token asked), before Django's session.
        "users.authentication.CookieAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["users.permissions.IsAdminOrOperator"],
    "DEFAULT_PARSER_CLASSES": ["api.rest.DecimalJSONParser"],
    # JSON; order ids as strings for callers signed in by the mysagra cookie.
    "DEFAULT_RENDERER_CLASSES": ["api.rest.ApiJSONRenderer"],
    "EXCEPTION_HANDLER": "api.rest.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "api.openapi.ApiSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env_int("JWT_ACCESS_MINUTES", 60, minimum=1)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env_int("JWT_REFRESH_DAYS", 7, minimum=1)),
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
    # A refresh token is good for one refresh: it is blacklisted and a new
    # one comes with the new access token.
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    # Every token carries a digest of the password hash it was issued
    # under; after a password change it no longer matches (checked by
    # users.authentication.BearerAuthentication).
    "CHECK_REVOKE_TOKEN": True,
    "UPDATE_LAST_LOGIN": False,
}
# The access token of POST /auth/login: clients that sign a person in once per
# shift and never refresh.
LOGIN_TOKEN_HOURS = env_int("LOGIN_TOKEN_HOURS", 12, minimum=1, maximum=24 * 30)
# POST /auth/login also sets that token as the mysagra_session and
# mysagra_token cookies (today's MySagra clients), for as long as it lasts;
# Secure under HTTPS=1.
LOGIN_COOKIE_SECURE = env_bool("LOGIN_COOKIE_SECURE", HTTPS)

# A retry with the same Idempotency-Key within this many hours gets the first
# answer back instead of writing again (idempotency/decorators.py).
IDEMPOTENCY_KEY_HOURS = env_int("IDEMPOTENCY_KEY_HOURS", 24, minimum=1)

# --- Sign-in throttling (django-axes) -------------------------------------
# After SIGNIN_FAILURE_LIMIT failures for one username, or from one address,
# within SIGNIN_LOCKOUT_MINUTES, every sign-in path answers 429 until that
# long after the last failure. Attempts refused during a lockout do not
# extend it, so the Retry-After we announce holds.
AXES_FAILURE_LIMIT = env_int("SIGNIN_FAILURE_LIMIT", 10, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("SIGNIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "users.throttling.lockout_response"
# Counts an attempt before its password is hashed, so a burst of attempts
# sent at once cannot all slip past the limit.
AXES_HANDLER = "users.throttling.SignInAttemptHandler"
AXES_VERBOSE = False
# The client's address as ops/proxies.py made it (TRUSTED_PROXIES), never a
# guess from headers anyone can send.
AXES_CLIENT_IP_CALLABLE = "ops.proxies.axes_client_ip"

# --- CORS (django-cors-headers) -------------------------------------------
# Origins of cross-origin SPAs, e.g. "https://till.example.org"; empty: no
# CORS at all. Applies to the API, sign-in and the event streams.
CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS", [])
CORS_URLS_REGEX = r"^/(v1|auth|events)/"
CORS_ALLOW_HEADERS = (
    "accept",
    "authorization",
    "content-type",
    "idempotency-key",
    "last-event-id",
    "x-api-key",
    "x-requested-with",
)
CORS_EXPOSE_HEADERS = ("Retry-After", "Idempotent-Replayed")

SPECTACULAR_SETTINGS = {
    "TITLE": "Ordering backend API",
    "DESCRIPTION": "Menu, orders and live events for restaurants and food festivals.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "COMPONENT_SPLIT_REQUEST": True,
    # Served from our own static files: a venue's network may have no internet.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Error responses and shared components: api/openapi.py; the events
    # endpoint (served outside DRF): events/openapi.py.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.openapi.add_shared_components",
        "events.openapi.add_events_endpoint",
    ],
}

# --- Events ---------------------------------------------------------------
EVENTS_KEEPALIVE_SECONDS = env_float("EVENTS_KEEPALIVE_SECONDS", 15.0)
# How often each process checks the event log for events it was not told
# about (a Redis outage, a lost notification). One query per process, not
# per stream.
EVENTS_POLL_SECONDS = env_float("EVENTS_POLL_SECONDS", 5.0)
EVENTS_STREAM_TOKEN_SECONDS = env_int("EVENTS_STREAM_TOKEN_SECONDS", 120, minimum=5)
# How often each process writes the snapshot of its open streams that the
# admin's live view reads (events/presence/presence.py): one write per interval.
EVENTS_PRESENCE_SECONDS = env_float("EVENTS_PRESENCE_SECONDS", 2.0, minimum=0.2)
# Events a slow client may have queued before it is sent back to the log.
EVENTS_CLIENT_QUEUE = env_int("EVENTS_CLIENT_QUEUE", 1000, minimum=10)

# Open streams one user or device may hold over all the workers; the next is
# a 429. Counted in Redis when REDIS_URL is set, where a worker that dies
# stops counting within EVENTS_STREAM_COUNT_SECONDS (each live worker renews
# its count every third of it); without Redis, from the processes' presence
# snapshots (events/transport/stream_limit.py).
EVENTS_MAX_STREAMS_PER_USER = env_int("EVENTS_MAX_STREAMS_PER_USER", 50, minimum=1)
EVENTS_STREAM_COUNT_SECONDS = env_float("EVENTS_STREAM_COUNT_SECONDS", 15.0, minimum=0.5)

# The most stored payload one read of the event log fetches (a replay page,
# a hub's catch-up), in bytes, beyond its first event; a page also holds at
# most 200 events. A client that does not read its replay holds about one
# page in the server.
EVENTS_REPLAY_PAGE_BYTES = env_int("EVENTS_REPLAY_PAGE_BYTES", 256 * 1024, minimum=4096)

# Bytes a stream may leave unread in the server beyond the transport's own
# 64 KiB buffer before it is closed (events/transport/backpressure.py).
EVENTS_MAX_UNSENT_BYTES = env_int("EVENTS_MAX_UNSENT_BYTES", 1024 * 1024, minimum=64 * 1024)

# How often each process re-checks the rights of its open streams' holders
# (events/access/revocation.py): a right that ends closes its streams this soon.
EVENTS_REVALIDATE_SECONDS = env_float("EVENTS_REVALIDATE_SECONDS", 0.5)

# Credentials a process remembers for opening streams without a query
# (events/access/credentials.py): at most this many, each forgotten after this many
# seconds without an opening. 0 entries turns the cache off.
EVENTS_CREDENTIAL_CACHE_SIZE = env_int("EVENTS_CREDENTIAL_CACHE_SIZE", 20000, minimum=0)
EVENTS_CREDENTIAL_CACHE_SECONDS = env_float("EVENTS_CREDENTIAL_CACHE_SECONDS", 300.0)

EVENTSTREAM_STORAGE_CLASS = "events.outbox.storage.EventLogStorage"
REDIS_URL = env_str("REDIS_URL", "")
# The Redis pub/sub channel on which this deployment's workers wake each
# other. Pub/sub ignores Redis's database number, so two deployments on one
# Redis server must not share a channel; empty: one derived from the
# deployment's database (engine, host, port and name, hashed: events/core/log.py).
EVENTS_REDIS_CHANNEL = env_str("EVENTS_REDIS_CHANNEL", "")
if REDIS_URL:
    from redis.connection import parse_url as _parse_redis_url

    EVENTSTREAM_REDIS = _parse_redis_url(REDIS_URL)

# Pushpin (GRIP) in front of the workers, holding the streams. GRIP_URL is
# Pushpin's publish endpoint (?iss=&key= in it would sign the publishes), e.g.
# http://127.0.0.1:5561, or several separated by commas: one per Pushpin
# instance when several hold a share of the streams each; every event is
# published to each. GRIP_SIG_KEY is the key every Pushpin signs forwarded
# requests with (its sig_key; "base64:..." allowed). Both empty: no GRIP,
# every process serves its own streams.
GRIP_SIG_KEY = env_str("GRIP_SIG_KEY", "")
_grip_urls = [url for url in re.split(r"[\s,]+", env_str("GRIP_URL", "")) if url]
if bool(_grip_urls) != bool(GRIP_SIG_KEY):
    raise ImproperlyConfigured("GRIP_URL and GRIP_SIG_KEY go together: set both for Pushpin, or neither")
# django_grip publishes to each of GRIP_PROXIES (its GRIP_URL, left unset,
# would name a single one).
GRIP_PROXIES = [parse_grip_uri(url) for url in _grip_urls]
# An idle stream held by Pushpin asks its worker for missed events this often
# (which bounds how late an event whose publish to Pushpin was lost arrives).
GRIP_RECOVER_SECONDS = env_int("GRIP_RECOVER_SECONDS", 60, minimum=1)

# A connection must complete its request headers this soon after it opens
# (or after its previous response) when served by `python -m config.serve`.
HTTP_HEADER_TIMEOUT_SECONDS = env_float("HTTP_HEADER_TIMEOUT_SECONDS", 15.0)
# Connections waiting to be accepted by one server process (config/serve.py).
HTTP_LISTEN_BACKLOG = env_int("HTTP_LISTEN_BACKLOG", 4096, minimum=1)
# A request's body must arrive whole this soon after its headers, and at no
# less than HTTP_BODY_MIN_BYTES_PER_SECOND over every window of
# HTTP_BODY_RATE_WINDOW_SECONDS (0: no rate check); otherwise the connection
# is closed (config/serve.py).
HTTP_BODY_TIMEOUT_SECONDS = env_float("HTTP_BODY_TIMEOUT_SECONDS", 30.0)
HTTP_BODY_MIN_BYTES_PER_SECOND = env_int("HTTP_BODY_MIN_BYTES_PER_SECOND", 1024, minimum=0)
HTTP_BODY_RATE_WINDOW_SECONDS = env_float("HTTP_BODY_RATE_WINDOW_SECONDS", 5.0)
# Request bodies one client address may be sending at once to one server
# process; the next is refused with a 429 before its body is read.
HTTP_MAX_UPLOADS_PER_ADDRESS = env_int("HTTP_MAX_UPLOADS_PER_ADDRESS", 20, minimum=1)
# …and from all addresses together (each holds a socket and maybe a
# temporary file: this keeps a worker's descriptors well inside its limit).
HTTP_MAX_UPLOADS = env_int("HTTP_MAX_UPLOADS", 1000, minimum=1)
# A response waits at most this long for its client to read (to drain the
# server's 64 KiB buffer) before the connection is closed (config/pacing.py).
HTTP_SEND_TIMEOUT_SECONDS = env_float("HTTP_SEND_TIMEOUT_SECONDS", 30.0)
# A request body larger than this is refused with a 413 (by its
# Content-Length before any of it is read, or as soon as a chunked body
# passes it).
HTTP_MAX_BODY_BYTES = env_int("HTTP_MAX_BODY_BYTES", 1024 * 1024, minimum=1024)

# A page of GET /v1/orders holds fewer than `limit` orders when that many of
# its listing's largest could pass this many bytes (orders/selectors.py).
ORDERS_PAGE_MAX_BYTES = env_int("ORDERS_PAGE_MAX_BYTES", 2 * 1024 * 1024, minimum=64 * 1024)
# Pages of GET /v1/orders built at once in one process; more requests wait.
ORDERS_PAGE_BUILDS = env_int("ORDERS_PAGE_BUILDS", 2, minimum=1)

# Kitchen display: cards older than this many minutes stand out.
KITCHEN_LATE_MINUTES = env_int("KITCHEN_LATE_MINUTES", 15, minimum=1)
# A second, stronger warning; at least the first one.
KITCHEN_VERY_LATE_MINUTES = env_int("KITCHEN_VERY_LATE_MINUTES", 25, minimum=KITCHEN_LATE_MINUTES)
# Ready codes leave the board after this long, or when picked up.
BOARD_READY_MINUTES = env_int("BOARD_READY_MINUTES", 10, minimum=1)

# --- Operations (ops/) -------------------------------------------------------


def env_networks(name: str, default: list[str]) -> list:
    """Addresses or networks, comma-separated: "127.0.0.1,10.0.0.0/24"."""
    try:
        return parse_networks(env_list(name, default))
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}: {exc}") from None


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = env_str(name, default).strip().lower() or default
    if value not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value


# Proxies whose X-Forwarded-For and X-Forwarded-Proto are believed (the
# balancer, Pushpin): a connection from one of them is taken to come from the
# address it names (ops/proxies.py). Empty: every peer is the client.
TRUSTED_PROXIES = env_networks("TRUSTED_PROXIES", [])
# GET /metrics (ops/metrics.py) answers loopback and these networks, or a
# request with "Authorization: Bearer METRICS_TOKEN"; anyone else gets a 404.
METRICS_ALLOWED_NETWORKS = env_networks("METRICS_ALLOWED_NETWORKS", [])
METRICS_TOKEN = env_str("METRICS_TOKEN", "")
# Each dependency /readyz checks gets this long to answer.
READY_TIMEOUT_SECONDS = env_float("READY_TIMEOUT_SECONDS", 2.0)

# text: "timestamp level logger [request id] message" for a person; json:
# one JSON object a line for a log collector (ops/logformat.py).
LOG_FORMAT = env_choice("LOG_FORMAT", "text", ("text", "json"))
LOGGING = logging_config(
    log_format=LOG_FORMAT,
    level=env_str("LOG_LEVEL", "WARNING"),
    events_level=env_str("EVENTS_LOG_LEVEL", "INFO"),
)
