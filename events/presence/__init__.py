"""Who is listening right now, across every worker process: each process's
snapshot of its open streams, written to events.models.StreamSnapshot and
read by the admin's live view (presence).

May import: events.core, events.access, events.models, users, Django.
Never the transport or the outbox.
"""
