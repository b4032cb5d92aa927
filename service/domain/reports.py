"""Monthly digitization report: periods, activity facts, aggregation and the 766 ratios (pure rules).

The store gives one :class:`Fact` per event of a period (a dossier received, a component or result
digitized, a paper reused, additional papers requested, a dossier returned or settled); the use
case decides what needs the catalogue (on time or late, all components present) and this module
adds them up per office, per officer and per procedure, with a total row. Which events the three
ratios count is :class:`RatioRules` (from the ``reports`` config section): the exact indicator
definitions of Quyết định 766/QĐ-TTg are unconfirmed (``docs/REGULATION.md`` §15).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from service.domain.errors import ValidationError


class FactKind(StrEnum):
    """What happened."""

    RECEIVED = "received"
    COMPONENT = "component"
    RESULT = "result"
    REUSED = "reused"
    REQUEST = "request"
    RETURNED = "returned"
    SETTLED = "settled"


class Dimension(StrEnum):
    """How the report is grouped."""

    OFFICE = "office"
    OFFICER = "officer"
    PROCEDURE = "procedure"


@dataclass(frozen=True, slots=True)
class Fact:
    """One event of the period, as the store recorded it (times are UTC ISO-8601).

    ``received_at`` is when the dossier was received (for a return: the start of its time limit);
    ``has_result`` whether a settled dossier holds a digitized result; ``on_time`` and ``complete``
    are decided by the use case (None: no time limit / not a received dossier).
    """

    kind: FactKind
    at: str
    actor: str
    dossier_id: str
    procedure_code: str | None
    component_code: str | None = None
    received_at: str | None = None
    has_result: bool = False
    on_time: bool | None = None
    complete: bool | None = None


@dataclass(frozen=True, slots=True)
class Period:
    """Local calendar days ``first`` .. ``last`` (inclusive); ``month`` set for a monthly report."""

    first: dt.date
    last: dt.date
    month: str | None = None

    def utc_bounds(self, utc_offset_minutes: int) -> tuple[str, str]:
        """``[start, end)`` as UTC ISO-8601 strings comparable with the store's timestamps."""
        tz = dt.timezone(dt.timedelta(minutes=utc_offset_minutes))
        start = dt.datetime.combine(self.first, dt.time(), tz).astimezone(dt.UTC)
        end = dt.datetime.combine(self.last + dt.timedelta(days=1), dt.time(), tz).astimezone(dt.UTC)
        return start.isoformat(timespec="microseconds"), end.isoformat(timespec="microseconds")


_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_DAY = re.compile(r"^(\d{2})/(\d{2})/(\d{4})$")


def parse_month(text: str) -> Period:
    """``YYYY-MM`` → that month; :class:`ValidationError` (field ``month``) otherwise."""
    m = _MONTH.match(text.strip())
    if m is None or not 1 <= int(m.group(2)) <= 12 or int(m.group(1)) < 2000:
        raise ValidationError("month", f"'{text}' is not a month YYYY-MM", remedy="give a month such as 2026-11")
    year, month = int(m.group(1)), int(m.group(2))
    first = dt.date(year, month, 1)
    nxt = dt.date(year + (month == 12), month % 12 + 1, 1)
    return Period(first, nxt - dt.timedelta(days=1), f"{year:04d}-{month:02d}")


def parse_day(text: str, field_name: str) -> dt.date:
    """``DD/MM/YYYY`` → a date; :class:`ValidationError` naming ``field_name`` otherwise."""
    m = _DAY.match(text.strip())
    try:
        if m is None:
            raise ValueError(text)
        return dt.date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
    except ValueError:
        raise ValidationError(field_name, f"'{text}' is not a date DD/MM/YYYY",
                              remedy="give a day such as 01/11/2026") from None


def range_period(first: dt.date, last: dt.date, *, max_days: int = 366) -> Period:
    """The days ``first`` .. ``last``; refused when reversed or longer than ``max_days``."""
    if last < first:
        raise ValidationError("to", "the end day is before the start day", remedy="swap --from and --to")
    if (last - first).days + 1 > max_days:
        raise ValidationError("to", f"the range is longer than {max_days} days", remedy="report a shorter range")
    return Period(first, last)


def month_of(day: dt.date) -> Period:
    """The month that holds ``day``."""
    return parse_month(f"{day.year:04d}-{day.month:02d}")


def local_date(utc_iso: str, utc_offset_minutes: int) -> dt.date:
    """The local calendar day of a stored UTC timestamp."""
    when = dt.datetime.fromisoformat(utc_iso)
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return (when + dt.timedelta(minutes=utc_offset_minutes)).date()


def show_date(day: dt.date) -> str:
    """A day as the reports show it: dd/mm/yyyy."""
    return f"{day.day:02d}/{day.month:02d}/{day.year:04d}"


_DOSSIER_CODE = re.compile(r"^(.+)-\d{6}-\d{4}$")


def office_of(dossier_id: str, default: str) -> str:
    """The office of a dossier: the unit code its ``<unit>-YYMMDD-XXXX`` code starts with, else ``default``."""
    m = _DOSSIER_CODE.match(dossier_id)
    return m.group(1) if m else default


@dataclass(frozen=True, slots=True)
class RatioRules:
    """What the ratios count (config ``reports.ratios``; the exact 766 definitions are unconfirmed)."""

    reuse_counts_as_component: bool = True
    settled_statuses: tuple[str, ...] = ("result_ready", "refused")


@dataclass(slots=True)
class Counts:
    """The counts of one row, with the numerators and denominators of its ratios."""

    received: int = 0
    components: int = 0
    results: int = 0
    reused: int = 0
    requests: int = 0
    returned: int = 0
    on_time: int = 0
    late: int = 0
    complete: int = 0
    settled: int = 0
    settled_with_result: int = 0

    def add(self, fact: Fact) -> None:
        """Count one fact."""
        k = fact.kind
        if k is FactKind.RECEIVED:
            self.received += 1
            self.complete += bool(fact.complete)
        elif k is FactKind.COMPONENT:
            self.components += 1
        elif k is FactKind.RESULT:
            self.results += 1
        elif k is FactKind.REUSED:
            self.reused += 1
        elif k is FactKind.REQUEST:
            self.requests += 1
        elif k is FactKind.RETURNED:
            self.returned += 1
            self.on_time += fact.on_time is True
            self.late += fact.on_time is False
        elif k is FactKind.SETTLED:
            self.settled += 1
            self.settled_with_result += fact.has_result

    def merge(self, other: Counts) -> None:
        """Add another row's counts to this one."""
        for name in self.__slots__:  # type: ignore[attr-defined]
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def components_ratio(self) -> float | None:
        """Share of received dossiers whose components were all digitized (None: nothing received)."""
        return _share(self.complete, self.received)

    @property
    def results_ratio(self) -> float | None:
        """Share of settled dossiers whose result was digitized (None: nothing settled)."""
        return _share(self.settled_with_result, self.settled)

    @property
    def reuse_ratio(self) -> float | None:
        """Share of the papers taken in that were reused instead of scanned again (None: no paper)."""
        return _share(self.reused, self.reused + self.components)


def _share(part: int, whole: int) -> float | None:
    return None if whole == 0 else part / whole


@dataclass(frozen=True, slots=True)
class Row:
    """One line of a table: its key (code), a display name and the counts."""

    key: str
    name: str
    counts: Counts


@dataclass(frozen=True, slots=True)
class Report:
    """The whole report: the period, one table per dimension (sorted by key), and the totals."""

    period: Period
    office_filter: str | None
    tables: Mapping[Dimension, tuple[Row, ...]]
    total: Counts = field(default_factory=Counts)


def aggregate(facts: Iterable[Fact], period: Period, *, office_default: str,
              names: Mapping[Dimension, Callable[[str], str]] | None = None,
              office_filter: str | None = None) -> Report:
    """Add the facts up per office, officer and procedure; ``names`` gives each key's display name."""
    groups: dict[Dimension, dict[str, Counts]] = {d: {} for d in Dimension}
    total = Counts()
    for f in facts:
        office = office_of(f.dossier_id, office_default)
        if office_filter is not None and office != office_filter:
            continue
        keys = {Dimension.OFFICE: office, Dimension.OFFICER: f.actor, Dimension.PROCEDURE: f.procedure_code or ""}
        for dim, key in keys.items():
            groups[dim].setdefault(key, Counts()).add(f)
        total.add(f)
    naming = names or {}
    tables = {dim: tuple(Row(k, naming.get(dim, lambda _k: "")(k), c) for k, c in sorted(rows.items()))
              for dim, rows in groups.items()}
    return Report(period, office_filter, tables, total)
