"""Order statistics for small samples: median and spread, no numpy."""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(values: Sequence[float], p: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * p / 100.0
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summary(values: Sequence[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "median": percentile(values, 50),
        "p10": percentile(values, 10),
        "p90": percentile(values, 90),
        "min": min(values) if values else math.nan,
        "max": max(values) if values else math.nan,
    }


def ratios(numerators: Sequence[float], denominators: Sequence[float]) -> list[float]:
    """Per-round ratios of paired trials (same round, same machine state);
    rounds where the baseline is not positive are left out."""
    return [a / b for a, b in zip(numerators, denominators, strict=False) if b > 0]


def fmt(value: float, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:,.{digits}f}"


def fmt_summary(s: dict[str, float], digits: int = 1, unit: str = "") -> str:
    """ "12.3 [10.1–15.0]": median and p10–p90."""
    if not s or s.get("n", 0) == 0:
        return "n/a"
    return f"{fmt(s['median'], digits)}{unit} [{fmt(s['p10'], digits)}–{fmt(s['p90'], digits)}]"
