"""The events app: what the orders' saves become for the screens, printers and
cashiers that listen. One package per concern, in layers; a package imports
only the ones below it (import-linter's contracts in pyproject.toml hold it):

    events.outbox     record an event with the change that causes it, announce it after the commit
    events.transport  serve the streams: the SSE endpoint, the hub, GRIP (Pushpin)
    events.presence   who is listening right now, across the workers
    events.access     who is asking, with what credential, and closing what it no longer may hold
    events.core       the channels and their catalogue, the event log's reads, worker threads

The app's own modules (apps, admin, models, urls, openapi) sit on top and may
import any of them. Other apps use the modules named in pyproject.toml's
"public interface" contract only.
"""
