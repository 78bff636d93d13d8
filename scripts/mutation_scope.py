"""Narrow a cosmic-ray session (cosmic-ray.toml) to what a client reads.

`cosmic-ray init` mutates whole modules; this marks as skipped, before
`cosmic-ray exec`, every mutation outside the functions below: the payload
builders and the representations they are made of, money, pricing and the
ticket counter. The REST-only representations and the other services keep
their own tests; mutating them here would only make the run longer. A
mutation inside a type annotation (`str | None` → `str - None`) is skipped
too: with `from __future__ import annotations` no annotation is evaluated,
so such a mutant is the same program. So is one that turns the bare `*` of a
signature (keyword-only arguments follow) into `/`: every caller passes them
by keyword, which both accept.

    python scripts/mutation_scope.py SESSION            # after `cosmic-ray init`
    python scripts/mutation_scope.py --report SESSION   # after `cosmic-ray exec`: the summary
                                                        # line and every surviving mutant
"""

from __future__ import annotations

import ast
import sys
from collections import Counter
from functools import cache

from cosmic_ray.work_db import WorkDB, use_db
from cosmic_ray.work_item import TestOutcome, WorkerOutcome, WorkResult

# Module → the functions of it that are mutated (None: all of it).
SCOPE: dict[str, set[str] | None] = {
    "events/outbox/payloads.py": None,
    "orders/money.py": {"round_money", "format_money"},  # parse_money reads input: test_validation
    "orders/representations.py": {
        "format_timestamp",
        "order_item_repr",
        "order_item_for_printer_repr",
        "_order_fields",
        "order_repr",
        "order_for_printer_repr",
        "effective_printer",
        "order_stations_repr",
        "order_summary_repr",
        "reprint_repr",
    },
    "orders/services.py": {
        # pricing
        "_priced_items",
        "_apply_totals",
        # the ticket counter and the display code
        "service_day",
        "_next_in_sequence",
        "display_code_for",
        "_mark_confirmed",
    },
}


@cache
def annotations(module_path: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """(start, end) positions, (line, column), of every annotation in a module."""
    with open(module_path, encoding="utf-8") as source:
        tree = ast.parse(source.read())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.arg | ast.AnnAssign) and node.annotation is not None:
            found.append(node.annotation)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.returns is not None:
            found.append(node.returns)
    return [((n.lineno, n.col_offset), (n.end_lineno, n.end_col_offset)) for n in found]


def in_scope(mutation) -> bool:
    module_path = str(mutation.module_path)
    if module_path not in SCOPE:
        return False
    functions = SCOPE[module_path]
    if functions is not None and mutation.definition_name not in functions:
        return False
    start = tuple(mutation.start_pos)
    if any(first <= start < last for first, last in annotations(module_path)):
        return False
    return not is_keyword_only_marker(module_path, *start)


@cache
def keyword_only_markers(module_path: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Where the bare `*` of each signature can be: between the last
    positional parameter (or the def's start) and the first keyword-only one."""
    with open(module_path, encoding="utf-8") as source:
        tree = ast.parse(source.read())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.args.kwonlyargs and not node.args.vararg:
            positional = node.args.posonlyargs + node.args.args
            before = positional[-1] if positional else node
            start = (before.end_lineno, before.end_col_offset) if positional else (node.lineno, node.col_offset)
            first = node.args.kwonlyargs[0]
            found.append((start, (first.lineno, first.col_offset)))
    return found


def is_keyword_only_marker(module_path: str, line: int, column: int) -> bool:
    """Whether (line, column) is the bare `*` of a signature."""
    return any(first <= (line, column) < last for first, last in keyword_only_markers(module_path))


def main(session: str) -> None:
    kept: Counter[str] = Counter()
    skipped = []
    with use_db(session, WorkDB.Mode.open) as db:
        for item in db.pending_work_items:
            if all(in_scope(m) for m in item.mutations):
                kept.update(str(m.module_path) for m in item.mutations)
            else:
                skipped.append(item.job_id)
        db.set_multiple_results(
            skipped, WorkResult(output="outside scripts/mutation_scope.py", worker_outcome=WorkerOutcome.SKIPPED)
        )
    print(f"mutations kept: {sum(kept.values())} ({dict(sorted(kept.items()))}); skipped: {len(skipped)}")


def report(session: str) -> None:
    outcomes: Counter[str] = Counter()
    survivors = []
    with use_db(session, WorkDB.Mode.open) as db:
        pending = sum(1 for _ in db.pending_work_items)
        for item, result in db.completed_work_items:
            if result.worker_outcome == WorkerOutcome.SKIPPED:
                continue
            outcome = result.test_outcome or result.worker_outcome
            outcomes[outcome.value] += 1
            if result.test_outcome == TestOutcome.SURVIVED:
                survivors.append((item, result))
    for item, result in survivors:
        mutation = item.mutations[0]
        print(
            f"survived: {mutation.module_path}:{mutation.start_pos[0]} in {mutation.definition_name}, "
            f"{mutation.operator_name} #{mutation.occurrence}"
        )
        print("\n".join("    " + line for line in (result.diff or "").splitlines() if line[:1] in "+-"))
    print(
        f"mutants run: {sum(outcomes.values())} ({', '.join(f'{n} {k}' for k, n in sorted(outcomes.items()))}); "
        f"not run yet: {pending}"
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--report"]:
        report(sys.argv[2])
    else:
        main(sys.argv[1])
