"""Who holds an event stream, and with what credential.

Invariant: every open stream carries the identity it was opened with, and
that identity names everything whose end must close the stream: the user
(deactivated, role changed, password changed), the credential (a token that
expires or is logged out, a session that ends) and, for a device, its API
key. events/revocation.py checks these, batched per process.
"""

from __future__ import annotations

from dataclasses import dataclass

BEARER = "bearer"
STREAM_TOKEN = "stream-token"
SESSION = "session"
GRIP_NEXT = "grip-next"
API_KEY = "api-key"


@dataclass(frozen=True)
class Identity:
    kind: str
    user_id: str | None = None  # a person; None for a device
    key_id: str | None = None  # a device's API key
    # The session key, or the raw Bearer token (re-checked by the configured
    # authenticator, so that a logout refuses it on streams as on REST).
    credential: str = ""
    expires_at: float | None = None  # Unix time at which the credential ends
    # The user's session auth hash when the stream opened: it changes with
    # the password, which ends every credential issued before.
    auth_hash: str = ""

    @property
    def holder(self) -> str:
        """The user or device the per-holder stream limit counts for."""
        return f"user:{self.user_id}" if self.user_id is not None else f"key:{self.key_id}"
