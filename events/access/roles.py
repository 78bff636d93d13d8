"""Which staff roles may hold which event streams: the rule the stream's
opening (events/access/authentication.py) and its re-check (events/access/revocation.py)
share. May import users.models only."""

from __future__ import annotations

from users.models import Role

LISTENER_ROLES = (Role.ADMIN, Role.OPERATOR, Role.MAINTAINER)
# A cook (Role.KITCHEN) listens to the one channel the kitchen display reads.
KITCHEN_CHANNEL = "display"
# Every role that may hold some stream open (events/access/revocation.py re-checks it).
STREAM_ROLES = (*LISTENER_ROLES, Role.KITCHEN)
