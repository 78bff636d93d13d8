"""The reference printer agent: listens to /events/printer with a device's
API key and prints on network ESC/POS printers (python-escpos).

Modules: `state` (the journal kept on disk), `client` (the server),
`sse` (the one SSE reader, httpx-sse's parser; the tests and benchmarks use it too),
`tickets` (what each event prints, pure), `printing` (one queue and thread
per printer, each ticket confirmed by the printer's status answer), `agent`
(the stream reader that ties them together). Imports run one way: agent ->
printing -> state, tickets. Apart from `management/` (the thin `manage.py printer_agent`), it imports
nothing from Django, so it runs on any machine with Python, python-escpos, httpx and httpx-sse:
`python -m printeragent` (`cli`) is its front door.
"""
