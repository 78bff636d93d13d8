"""The catalogue of words the kitchen and board scripts show
(screens/static/pages/*.js read it as config.labels through Live.t): translated here,
in the request's language, and handed to the page with json_script.
Placeholders are in {braces}. Imports only Django's translation."""

from __future__ import annotations

from django.utils.translation import gettext as _


def live_labels() -> dict[str, str]:
    """What both live pages show (screens/static/pages/live.js)."""
    return {
        "sound": _("Sound"),
        "soundOn": _("on"),
        "soundOff": _("off"),
        "connecting": _("Connecting…"),
        "live": _("Live"),
        "reconnecting": _("Reconnecting…"),
        "connectionLost": _("Connection lost. Reconnecting… Orders on screen may be out of date."),
        "connectionRestored": _("Connection restored."),
        "disconnected": _("This screen was disconnected."),
        "ticket": _("ticket"),
    }


def board_labels() -> dict[str, str]:
    return {
        **live_labels(),
        "readyAnnounce": _("Order {code} is ready for pickup."),
        "more": _("+{count} more"),
    }


def kitchen_labels() -> dict[str, str]:
    return {
        **live_labels(),
        "order": _("order {code}"),
        "orderWithTicket": _("order {code} (ticket {ticket})"),
        "newOrderOneLine": _("New {order}, table {table}, 1 line."),
        "newOrderLines": _("New {order}, table {table}, {count} lines."),
        "doneAt": _("Done · {station}"),
        "doneAtLabel": _("Done: {order} at {station}"),
        "bump": _("Bump · ready"),
        "bumpLabel": _("Bump {order}: mark ready"),
        "note": _("Note:"),
        "table": _("Table {table}"),
        "otherStations": _("+ {count} more for other stations"),
        "stations": _("Stations"),
        "stationDone": _("✓ done"),
        "stationMaking": _("… making"),
        "undo": _("Undo"),
        "undoLabel": _("Undo done: {order}"),
        "recall": _("Recall"),
        "recallLabel": _("Recall {order}"),
        "pickup": _("Picked up"),
        "pickupLabel": _("Picked up: {order}"),
        "noStation": _("No station"),
        "oneOrder": _("1 order"),
        "orders": _("{count} orders"),
        "late": _("LATE"),
        "veryLate": _("VERY LATE"),
        "minutes": _("{count} min"),
        "offscreen": _("· {count} off-screen"),
        "bumped": _("Bumped: {order}."),
        "recalled": _("Recalled: {order}."),
        "pickedUp": _("Picked up: {order}."),
        "done": _("Done: {order}."),
        "undone": _("Undone: {order}."),
        "noConnection": _("No connection: {order} was not changed. Try again."),
        "conflict": _("{order}: {message}"),
        "changedElsewhere": _("already changed on another screen."),
        "failed": _("Could not change {order} ({message})."),
    }
