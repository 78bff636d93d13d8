"""What every part of the events app reads: the channels of the contract and
their event catalogue (channels), the event log as django-eventstream stores
it (log), and running blocking work off the event loop (threads).

May import: Django and django-eventstream; nothing of the project.
"""
