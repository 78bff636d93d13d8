"""The transactional outbox: the orders' saves become events, recorded in the
transaction that causes them (receivers, device_receivers, stations), built by
pure payload functions (payloads), appended to the log (storage) and announced
after the commit (publisher; to Pushpin through events.transport.grip).

May import: events.core, events.transport.grip, orders (models, selectors,
representations), ops, Django. Nothing in events imports the outbox except
the app's own modules (apps).
"""
