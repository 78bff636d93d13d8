"""Server-rendered charts for the admin: pure functions from report figures
to the coordinates an SVG template draws. No JavaScript, nothing fetched."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.utils import timezone

from orders.money import ZERO, format_money

# The plot always has room for at least this many hours: one hour of sales
# draws one hour-wide bar, as it would among twelve, not a full-width block.
MIN_SLOTS = 12


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: str
    title: str

    @property
    def value_y(self) -> float:
        return round(self.y - 4, 1)


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    left: int
    bottom: float
    bars: list[Bar]
    ticks: list[Tick]

    @property
    def label_y(self) -> float:
        return self.bottom + 18

    @property
    def tick_x(self) -> int:
        return self.left - 6


def _nice_ceiling(value: Decimal) -> Decimal:
    """The smallest 1, 2 or 5 × 10^n at or above value: round axis ticks."""
    if value <= ZERO:
        return Decimal("1")
    step = Decimal("1")
    while step * 10 <= value:
        step *= 10
    while step > value:
        step /= 10
    for factor in (1, 2, 5, 10):
        if step * factor >= value:
            return step * factor
    return step * 10  # pragma: no cover - factor 10 always reaches it


def hourly_revenue_chart(
    revenue_by_hour: dict[datetime, Decimal], *, width: int = 900, height: int = 320, left: int = 70
) -> BarChart | None:
    """Bars of revenue per hour, from the first hour with orders to the last
    (hours between without orders show as empty slots); None when no hour has
    any. `revenue_by_hour` maps the start of each hour to its revenue."""
    if not revenue_by_hour:
        return None
    first, last = min(revenue_by_hour), max(revenue_by_hour)
    hours = []
    moment = first
    while moment <= last:  # bounded: at most the hours of the reported range
        hours.append(moment)
        moment += timedelta(hours=1)
    top, bottom = 20, height - 40
    plot_height = bottom - top
    ceiling = _nice_ceiling(max(revenue_by_hour.values()))
    slot = (width - left - 10) / max(len(hours), MIN_SLOTS)
    bars = []
    for index, hour in enumerate(hours):
        revenue = revenue_by_hour.get(hour, ZERO)
        bar_height = float(revenue / ceiling) * plot_height
        label = timezone.localtime(hour).strftime("%H:%M")
        bars.append(
            Bar(
                x=round(left + index * slot + slot * 0.15, 1),
                y=round(bottom - bar_height, 1),
                width=round(slot * 0.7, 1),
                height=round(bar_height, 1),
                label=label,
                value=format_money(revenue),
                title=f"{label}: {format_money(revenue)}",
            )
        )
    ticks = [
        Tick(y=round(bottom - plot_height * step / 4, 1), label=format_money(ceiling * step / 4)) for step in range(5)
    ]
    return BarChart(width=width, height=height, left=left, bottom=bottom, bars=bars, ticks=ticks)
