"""Money: the one rounding rule and the formatters of every surface that shows an amount.

Amounts are :class:`~decimal.Decimal` end to end (never float). Two precisions:

* :data:`CSV_QUANTUM` (0.0001): the export contract's 4 decimals (seed ``002``), for the CSV exports,
  their manifests and the API's bodies (machines sum them);
* :data:`CENT` (0.01): what a person reads (portal pages, the CLI), with thousands separators.

**The rule.** A total is its exact sum rounded half away from zero (PostgreSQL's ``round``); the rows
shown beside it are rounded by *largest remainder* so that they add up to exactly that total: each
row's exact amount is rounded down to the quantum, then the quanta still missing to reach the total
go one each to the rows with the largest remainders (ties: in the rows' order). Each displayed row
is therefore less than one quantum from its exact amount, and a reader who sums the displayed rows
(finance summing a CSV, a person adding a table) finds the displayed total. Credits (negative
amounts) round the same way.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
CSV_QUANTUM = Decimal("0.0001")
#: The currency of every billed amount (the price catalog's).
CURRENCY = "USD"


def round_half_up(amount: Decimal, quantum: Decimal = CENT) -> Decimal:
    """``amount`` to ``quantum``, half away from zero (PostgreSQL's ``round(x, n)``)."""
    return Decimal(amount).quantize(quantum, ROUND_HALF_UP)


def _order_key(key: Hashable) -> tuple:
    return (key is None, "" if key is None else str(key))


def largest_remainder(exact: Mapping[Hashable, Decimal], total: Decimal,
                      quantum: Decimal = CENT) -> dict[Hashable, Decimal]:
    """Round each exact amount to ``quantum`` so that the results sum to ``total`` exactly.

    ``total`` must be a whole number of quanta between the sum of the amounts rounded down and
    that sum plus one quantum per amount (``round_half_up(sum(exact), quantum)`` always is). Ties
    between equal remainders go by key (None last).
    """
    return _allocate(exact, total, quantum, sorted(exact, key=_order_key))


def _allocate(exact: Mapping[Hashable, Decimal], total: Decimal, quantum: Decimal,
              order: Sequence[Hashable]) -> dict[Hashable, Decimal]:
    if total != total.quantize(quantum):
        unit = "cents" if quantum == CENT else f"units of {quantum}"
        raise ValueError(f"total {total} is not a whole number of {unit}")
    floors = {key: Decimal(value).quantize(quantum, ROUND_FLOOR) for key, value in exact.items()}
    missing = (total - sum(floors.values(), Decimal(0))) / quantum
    if missing != int(missing) or not 0 <= missing <= len(exact):
        raise ValueError(f"total {total} cannot be reached by rounding {len(exact)} amounts summing to "
                         f"{sum(exact.values(), Decimal(0))} to {quantum}")
    position = {key: index for index, key in enumerate(order)}
    by_remainder = sorted(exact, key=lambda key: (-(exact[key] - floors[key]), position[key]))
    for key in by_remainder[: int(missing)]:
        floors[key] += quantum
    return floors


def rounded_rows(amounts: Sequence[Decimal | None], quantum: Decimal = CENT) -> tuple[list[Decimal | None], Decimal]:
    """The displayed rows and the displayed total of ``amounts`` (in their order; None stays None and
    counts as nothing): the total is the exact sum rounded half up, the rows sum to it exactly."""
    exact = {index: Decimal(amount) for index, amount in enumerate(amounts) if amount is not None}
    total = round_half_up(sum(exact.values(), Decimal(0)), quantum)
    allocated = _allocate(exact, total, quantum, list(exact))
    return [allocated.get(index) for index in range(len(amounts))], total


def format_cost(value: Decimal) -> str:
    """A machine-read amount (CSV, manifest, API): 4 decimals, half up, no separators."""
    return str(round_half_up(Decimal(value), CSV_QUANTUM))


def format_money(value: Decimal | None) -> str:
    """A person-read amount: 2 decimals (half up) with thousands separators; ``–`` for None. Rows
    shown beside a total are first rounded by :func:`rounded_rows` so that they add up to it."""
    if value is None:
        return "–"
    return f"{round_half_up(Decimal(value), CENT):,.2f}"
