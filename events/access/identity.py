"""Who holds an event stream, and with what credential.

Invariant: every open stream carries the identity it was opened with, and
that identity names everything whose end must close the stream: the user
(deactivated, role changed, password changed), the credential (a token that
expires or is logged out, a session that ends, the login it was issued
under) and, for a device, its API key. events/access/revocation.py checks these, batched per process.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

BEARER = "bearer"
# The same login token, from the mysagra cookie (users/authentication.py):
# revoked as a Bearer token is; its streams take the cookie callers' event
# defaults and string order ids (clients-heads.md, E2/E7).
COOKIE = "cookie"
STREAM_TOKEN = "stream-token"
SESSION = "session"
API_KEY = "api-key"


@dataclass(frozen=True)
class Identity:
    kind: str
    user_id: str | None = None  # a person; None for a device
    key_id: str | None = None  # a device's API key
    # The session key, or the raw Bearer token or cookie (re-checked by the configured
    # authenticator, so that a logout refuses it on streams as on REST).
    credential: str = ""
    expires_at: float | None = None  # Unix time at which the credential ends
    # The user's session auth hash when the stream opened: it changes with
    # the password, which ends every credential issued before.
    auth_hash: str = ""
    # The credential's digest when only that is known (an identity renewed
    # from its GRIP holder channel, events/transport/grip.py).
    known_digest: str = ""
    # A Bearer token's `jti`: a logout puts it on the blacklist, which the
    # re-check reads for all streams in one query.
    token_id: str = ""
    # The login the credential was issued under (a Bearer token's, a stream
    # token's: users/tokens.py): a logout puts it on the same blacklist.
    login_id: str = ""

    @property
    def holder(self) -> str:
        """The user or device the per-holder stream limit counts for."""
        return f"user:{self.user_id}" if self.user_id is not None else f"key:{self.key_id}"

    def credential_digest(self) -> str:
        if self.known_digest:
            return self.known_digest
        return hashlib.sha256(self.credential.encode()).hexdigest()[:32] if self.credential else ""
