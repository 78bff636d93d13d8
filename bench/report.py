"""Markdown tables for the benchmark's results: the streams table (the
project against three baselines, a pair of columns each) and plain tables.

Invariant: a ratio is only ever formed per round (project and baseline
measured back to back) and summarised afterwards; a round whose baseline is
not positive makes the ratio "n/a", never a number."""

from __future__ import annotations

from bench.common import LABELS, SYSTEMS
from bench.stats import fmt_summary, summary

BASES = [name for name in SYSTEMS if name != "ours"]


def table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def paired_ratio(ours: list[float], base: list[float], digits: int = 2, *, zero_ok: bool = False) -> str:
    """Median [p10–p90] of per-round ratios (same round, same machine state);
    n/a when a round's baseline is not positive, or the project's is negative
    (or zero, unless zero_ok: a cost of 0 per stream is a fine 0×)."""
    pairs = [(a, b) for a, b in zip(ours, base, strict=False) if a == a and b == b]
    if not pairs:
        return "n/a"
    if any(b <= 0 for _, b in pairs):
        return "n/a (baseline ≤ 0)"
    if any(a < 0 or (a == 0 and not zero_ok) for a, _ in pairs):
        return "n/a (project ≤ 0)"
    return fmt_summary(summary([a / b for a, b in pairs]), digits, "×")


class StreamsTable:
    """Rows of "measure | project | (baseline, project ÷ baseline) per baseline"."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, ...]] = []

    def add(self, label: str, ours: str, cells: dict[str, tuple[str, str]]) -> None:
        row = [label, ours]
        for name in BASES:
            row += list(cells.get(name, ("", "")))
        self.rows.append(tuple(row))

    def render(self) -> str:
        header = ["measure", "this project: median [p10–p90]"]
        for name in BASES:
            header += [LABELS[name], "project ÷ " + LABELS[name].split(" (")[0]]
        return table(tuple(header), self.rows)
