"""Who may hold an event stream: who is asking (authentication), with which
credential (identity, tokens, credentials), for which role (roles), who a
Pushpin hold is for (holders), and closing the streams of a right that ended
(revocation); plus the view that mints stream tokens (views).

May import: events.core, users, Django. Never the transport, presence or
outbox of events.
"""
