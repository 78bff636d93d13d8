"""API keys: how devices (printer agents, unattended screens) authenticate.

A key reads `<prefix>.<secret>`: the prefix (12 hex digits) finds the row and
is no secret, the secret (32 random bytes, URL-safe base64) is shown once and
only its SHA-256 is stored. Invariants:

- a key is accepted only if its row exists, is not revoked, and the SHA-256
  of the presented secret matches, compared in constant time;
- anything else (wrong, revoked, malformed) is the same None, so a caller
  answers all of them with the same 401;
- `last_used_at`/`last_used_from` are written at most once per
  LAST_USED_RESOLUTION per key, by a conditional UPDATE, so a busy agent does
  not turn every request into a write.

What a key may do is decided per view (users.permissions) and per event
channel (`STREAM_CHANNEL`), never here.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed

from users.models import ApiKey, ApiKeyKind

DEVICE_ID_PREFIX = "apikey:"
LAST_USED_RESOLUTION = timedelta(minutes=1)
# The cookie a screen keeps its key in: set by its page (screens/keys.py),
# read by that page's JSON and by its event stream (events.access.authentication).
SCREEN_COOKIE = "screen_key"
# The one event channel each kind of key may open.
STREAM_CHANNEL: dict[str, str] = {
    ApiKeyKind.PRINTER_AGENT: "printer",
    ApiKeyKind.DISPLAY: "display",
    ApiKeyKind.KITCHEN: "display",
}

_KEY_FORMAT = re.compile(r"([0-9a-f]{12})\.([A-Za-z0-9_-]{43})", re.ASCII)
# Compared against when no row has the prefix, so an unknown prefix costs
# the same hashing and comparison as a known one.
_NO_SUCH_HASH = hashlib.sha256(b"no such key").hexdigest()


class ApiKeyError(Exception):
    pass


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def issue_key(*, key: ApiKey) -> str:
    """Give an unsaved key its prefix and secret, save it, and return the
    full key: the only time it exists outside the device that gets it."""
    if key.kind not in ApiKeyKind.values:
        raise ApiKeyError(f"Unknown kind {key.kind!r}: choose one of {', '.join(ApiKeyKind.values)}.")
    if not key.name.strip():
        raise ApiKeyError("A key needs a name (the device it belongs to).")
    # Two keys with one prefix (a 1 in 2**48 chance per pair) would break
    # the unique constraint: an IntegrityError, never a shared prefix.
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    key.prefix, key.secret_hash = prefix, _hash(secret)
    key.save()
    return f"{prefix}.{secret}"


def create_key(*, name: str, kind: str) -> tuple[ApiKey, str]:
    """A new key for the device `name`: (the saved key, the full key)."""
    key = ApiKey(name=name.strip(), kind=kind)
    raw = issue_key(key=key)
    return key, raw


def revoke_key(*, key: ApiKey) -> None:
    """Refuse the key from now on (idempotent: the first revocation's time stays)."""
    ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    key.refresh_from_db(fields=["revoked_at"])


def authenticate_key(raw: str | None, *, address: str | None = None) -> ApiKey | None:
    """The live key `raw` stands for, or None (wrong, revoked or malformed)."""
    match = _KEY_FORMAT.fullmatch(raw.strip()) if isinstance(raw, str) else None
    if match is None:
        return None
    prefix, secret = match.groups()
    key = ApiKey.objects.filter(prefix=prefix).first()
    expected = key.secret_hash if key is not None else _NO_SUCH_HASH
    if not hmac.compare_digest(_hash(secret), expected) or key is None or key.is_revoked:
        return None
    _note_use(key, address)
    return key


def _note_use(key: ApiKey, address: str | None) -> None:
    now = timezone.now()
    stale = now - LAST_USED_RESOLUTION
    if key.last_used_at is not None and key.last_used_at > stale:
        return
    # Conditional, so concurrent requests of one key write once per minute
    # between them, whichever process serves them.
    written = (
        ApiKey.objects.filter(pk=key.pk)
        .filter(Q(last_used_at__isnull=True) | Q(last_used_at__lte=stale))
        .update(last_used_at=now, last_used_from=address)
    )
    if written:
        key.last_used_at, key.last_used_from = now, address


def live_key_ids(key_ids: Iterable[str]) -> set[str]:
    """Of these ApiKey ids, those whose key still exists and is not revoked:
    one query, for re-checking the keys behind open event streams."""
    return set(ApiKey.objects.filter(pk__in=list(key_ids), revoked_at__isnull=True).values_list("pk", flat=True))


def live_device_ids(device_ids: Iterable[str]) -> set[str]:
    """The same for `Device.pk`s (ids that name no device are not live)."""
    key_ids = [d[len(DEVICE_ID_PREFIX) :] for d in device_ids if d.startswith(DEVICE_ID_PREFIX)]
    return {DEVICE_ID_PREFIX + key_id for key_id in live_key_ids(key_ids)}


class Device:
    """What `request.user` is for a request made with an API key: an
    authenticated identity with no staff role, so every role permission
    refuses it and only a view's `api_key_access` lets it in."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False

    def __init__(self, key: ApiKey):
        self.api_key = key
        # Distinct from every user id, so anything counted or re-checked
        # per identity (streams per user, revocation) tells the two apart.
        self.pk = self.id = DEVICE_ID_PREFIX + key.pk
        self.kind = key.kind
        self.username = key.name

    def __str__(self) -> str:
        return f"API key {self.api_key}"

    @property
    def effective_role(self) -> str:
        """What GET /auth/me names as a device's role: its kind."""
        return self.kind

    def has_role(self, *roles: str) -> bool:
        return False


def device_for(raw: str, *, address: str | None = None) -> Device | None:
    key = authenticate_key(raw, address=address)
    return Device(key) if key is not None else None


class ApiKeyAuthentication(BaseAuthentication):
    """DRF authentication by `X-API-KEY`. A request without the header is
    not this class's business (None: the next class, or anonymous); a header
    with a wrong, revoked or malformed key is a 401, never a fallback."""

    def authenticate(self, request):
        raw = request.META.get("HTTP_X_API_KEY")
        if raw is None:
            return None
        device = device_for(raw, address=request.META.get("REMOTE_ADDR") or None)
        if device is None:
            raise AuthenticationFailed("Invalid API key")
        return device, device.api_key

    def authenticate_header(self, request) -> str:
        return 'ApiKey header="X-API-KEY"'


class ApiKeyScheme(OpenApiAuthenticationExtension):
    """The X-API-KEY header in the OpenAPI schema (/docs/)."""

    target_class = ApiKeyAuthentication
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "X-API-KEY"}
