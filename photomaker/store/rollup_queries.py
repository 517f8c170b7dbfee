"""Reading the hourly rollups: totals per group over a scope, and how far back the latest rows lie."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, cast, func, select
from sqlalchemy.sql.base import ReadOnlyColumnCollection
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from photomaker.store.models import SYNTHETIC_ENGINE
from photomaker.store.rollup_schema import EXTREMES, rollup_table


def totals(rows: Iterable[Mapping[str, Any]], names: Sequence[str]) -> dict[str, Any]:
    """The named figures over `rows` (rollup rows, or aggregates of them): sums added, extremes kept (None: no
    value in any row)."""
    rows = list(rows)
    found: dict[str, Any] = {}
    for name in names:
        extreme = EXTREMES.get(name)
        if extreme is None:
            found[name] = sum(row[name] for row in rows)
        else:
            found[name] = extreme.keep((row[name] for row in rows if row[name] is not None), default=None)
    return found


@dataclass(frozen=True)
class Scope:
    """Which rollups a figure reads: a start hour, some model keys, some statuses, demo rows or not."""

    since_hour: int | None = None
    model_keys: tuple[str, ...] | None = None
    statuses: tuple[str, ...] | None = None
    include_synthetic: bool = True

    def filters(self, columns: ReadOnlyColumnCollection) -> list[ColumnElement[bool]]:
        """WHERE terms on model key, status and demo rows, for any table with those columns.

        The start of the window is left to the caller: its column differs from table to table.
        """
        terms = []
        if self.model_keys is not None:
            terms.append(columns.model_key.in_(self.model_keys))
        if self.statuses is not None:
            terms.append(columns.status.in_(self.statuses))
        if not self.include_synthetic:
            terms.append(columns.engine != SYNTHETIC_ENGINE)
        return terms


def aggregate(
    session: Session,
    scope: Scope,
    *,
    by: Sequence[str],
    sums: Sequence[str],
    period_hours: int | None = None,
) -> list[dict[str, Any]]:
    """Totals of the `sums` columns per distinct value of the `by` columns over the rollups in `scope`:
    sums (0 when none), and for the extremes the smallest or largest (None when none).

    With `period_hours`, `by` may name `period`: the first epoch hour of each period.
    """
    table = rollup_table.c
    groups: list[ColumnElement[Any]] = []
    for name in by:
        if name == "period":
            if not period_hours:
                raise ValueError("grouping by period needs period_hours")
            groups.append((table.epoch_hour - table.epoch_hour % period_hours).label("period"))
        else:
            groups.append(table[name])
    statement = select(*groups, *(_total(name).label(name) for name in sums))
    statement = statement.where(*scope.filters(table)).group_by(*groups)
    if scope.since_hour is not None:
        statement = statement.where(table.epoch_hour >= scope.since_hour)
    return [dict(row) for row in session.execute(statement).mappings()]


def _total(name: str) -> ColumnElement[Any]:
    """A column's total over grouped rows in SQL: its sum, or for an extreme the smallest or largest."""
    column = rollup_table.c[name]
    extreme = EXTREMES.get(name)
    if extreme is None:
        return cast(func.coalesce(func.sum(column), 0), BigInteger)
    return extreme.total(column)


def latest_hours(session: Session, scope: Scope, *, generations: int) -> int | None:
    """The latest epoch hour such that the hours from it on hold `generations` finished rows in
    `scope` (or all of them, when there are fewer); None when `scope` holds none.

    Reading the rollups newest first bounds how far back a raw query for the latest rows must
    look, however rare the rows that `scope` selects are among all rows.
    """
    table = rollup_table.c
    statement = (
        select(table.epoch_hour, func.sum(table.generations))
        .where(*scope.filters(table))
        .group_by(table.epoch_hour)
        .order_by(table.epoch_hour.desc())
    )
    if scope.since_hour is not None:
        statement = statement.where(table.epoch_hour >= scope.since_hour)
    seen, start = 0, None
    for hour, count in session.execute(statement):
        seen, start = seen + count, hour
        if seen >= generations:
            break
    return start
