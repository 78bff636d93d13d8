"""The screens: the kitchen display (/kitchen/) and the "now serving" board
(/display/), their staff login, and the JSON their scripts read and write.

It uses the events app only through its public modules (the channel names,
the display payloads, the wire ids); events never imports it.
"""
