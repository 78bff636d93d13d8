"""The contract's formats, written out independently of the application's
own formatters, so that a test comparing with them can fail."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_millis(moment: datetime) -> str:
    """`2026-01-15T18:30:00.000Z`: UTC, milliseconds (truncated), a Z."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"
