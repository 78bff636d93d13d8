"""Serving the event streams: the SSE endpoint (stream), how a stream opens
and replays (opening), the SSE wire format (wire), the per-process fan-out
hub (hub), a client that does not read (backpressure), the per-holder limit
over the workers (stream_limit), memory given back after streams close
(memory), and the same streams held by Pushpin (grip).

May import: events.core, events.access, events.presence, orders.representations
(the wire's order ids), ops, config.cors, Django. Never the outbox: the
transport reads what the outbox wrote from the log.
"""
