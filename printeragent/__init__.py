"""The reference printer agent: listens to /events/printer with a device's
API key and prints on network ESC/POS printers (python-escpos).

Modules: `state` (the journal kept on disk), `sse` and `api` (the server),
`tickets` (what each event prints, pure), `agent` (the loop that ties them
together). It imports nothing from Django, so it runs on any machine with
Python and python-escpos; `python manage.py printer_agent` is its front door.
"""
