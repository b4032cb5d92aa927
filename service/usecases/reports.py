"""The monthly digitization report (``sohoa report``, the supervisor's ``/reports`` page).

Counts come from the store (:meth:`service.store.Store.report_facts`), never from logs; the
catalogue gives each procedure's components and time limit; :mod:`service.domain.reports` adds
them up; :mod:`service.reports.writers` writes XLSX, CSV or HTML.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from service.config import Config, load_config
from service.domain.errors import InputError, ValidationError
from service.domain.reports import (
    Dimension,
    Fact,
    FactKind,
    Period,
    Report,
    aggregate,
    local_date,
    month_of,
    parse_day,
    parse_month,
    range_period,
)
from service.durable import write_durable
from service.paths import Paths, get_paths
from service.procedures.catalogue import Procedure, all_procedures
from service.reports.table import NO_PROCEDURE, NOTE, TITLE, Table, period_line, shown, tables
from service.reports.writers import MEDIA_TYPES, WRITERS, charts, ratio_chart
from service.store import Store
from service.usecases.dossier import catalogue
from service.usecases.kiosk_desk import add_working_days

__all__ = ["NOTE", "TITLE", "Report", "build_report", "check_office", "day_range", "file_name", "month_period",
           "output_format", "page_view", "render", "write_report"]

_OFFICE = re.compile(r"^[0-9A-Z.]{3,40}$")


def _ctx(paths: Paths | None, config: Config | None) -> tuple[Paths, Config]:
    p = paths or get_paths()
    return p, config or load_config(p.config)


def month_period(month: str | None, *, config: Config | None = None, now: dt.datetime | None = None) -> Period:
    """The month ``YYYY-MM``, or the current local month when None."""
    if month is not None:
        return parse_month(month)
    cfg = config or Config()
    local = (now or dt.datetime.now(dt.UTC)) + dt.timedelta(minutes=cfg.reports.utc_offset_minutes)
    return month_of(local.date())


def day_range(first: str, last: str, *, config: Config | None = None) -> Period:
    """The days ``DD/MM/YYYY`` .. ``DD/MM/YYYY`` (inclusive)."""
    cfg = config or Config()
    return range_period(parse_day(first, "from"), parse_day(last, "to"), max_days=cfg.reports.max_range_days)


def check_office(code: str | None) -> str | None:
    """An office unit code as dossier codes carry it (``000.00.70.H99``), or None."""
    if code is None:
        return None
    value = code.strip().upper()
    if not _OFFICE.match(value):
        raise ValidationError("office", f"'{code}' is not an office unit code",
                              remedy="give the unit code dossier codes start with, e.g. 000.00.70.H99")
    return value


def output_format(out: Path) -> str:
    """The extension of ``out`` if it is one the report can be written as."""
    ext = out.suffix.lower()
    if ext not in WRITERS:
        raise ValidationError("out", f"'{out.name}' is not an .xlsx, .csv or .html file",
                              remedy="name the output FILE.xlsx, FILE.csv or FILE.html")
    return ext


def _due(received: dt.date, days: int, working: bool) -> dt.date:
    return add_working_days(received, days) if working else received + dt.timedelta(days=days)


def _decide(facts: list[Fact], procs: dict[str, Procedure], held: dict[str, set[str]], cfg: Config) -> list[Fact]:
    """Mark received dossiers complete or not, and returns on time or late (catalogue time limit)."""
    rc, offset = cfg.reports, cfg.reports.utc_offset_minutes
    out = []
    for f in facts:
        proc = procs.get(f.procedure_code or "")
        if f.kind is FactKind.RECEIVED:
            need = [c.code for c in proc.components if c.required or not rc.ratios.required_components_only] \
                if proc is not None else None
            f = dataclasses.replace(f, complete=need is not None and set(need) <= held.get(f.dossier_id, set()))
        elif f.kind is FactKind.RETURNED and proc is not None and proc.return_days > 0 and f.received_at:
            due = _due(local_date(f.received_at, offset), proc.return_days, rc.working_days)
            f = dataclasses.replace(f, on_time=local_date(f.at, offset) <= due)
        out.append(f)
    return out


def build_report(period: Period, *, office: str | None = None, paths: Paths | None = None,
                 config: Config | None = None) -> Report:
    """Count the period's activity in the store, per office, officer and procedure."""
    p, cfg = _ctx(paths, config)
    office_filter = check_office(office)
    start, end = period.utc_bounds(cfg.reports.utc_offset_minutes)
    rules = cfg.reports.ratios.rules()
    with Store.open(p, cfg.store) as store:
        facts = store.report_facts(start, end, settled_statuses=rules.settled_statuses)
        received = [f.dossier_id for f in facts if f.kind is FactKind.RECEIVED]
        held = store.dossier_papers(received, end, with_reuse=rules.reuse_counts_as_component)
    procs = {pr.code: pr for pr in all_procedures(catalogue(p))}
    unit = cfg.identity.unit_code
    names = {Dimension.OFFICE: lambda k: cfg.identity.office_name if k == unit else "",
             Dimension.OFFICER: lambda _k: "",
             Dimension.PROCEDURE: lambda k: procs[k].name if k in procs else ("" if k else NO_PROCEDURE)}
    return aggregate(_decide(facts, procs, held, cfg), period, office_default=unit, names=names,
                     office_filter=office_filter)


def render(report: Report, fmt: str) -> tuple[bytes, str]:
    """The report's bytes in ``fmt`` (``.xlsx`` | ``.csv`` | ``.html``) and their media type."""
    return WRITERS[fmt](report), MEDIA_TYPES[fmt]


def write_report(report: Report, out: Path) -> Path:
    """Write the report to ``out`` (format from its extension); :class:`InputError` if it cannot be written."""
    fmt = output_format(out)
    data, _media = render(report, fmt)
    target = out.expanduser()
    if target.is_dir():
        raise InputError(f"{target} is a folder", remedy="give a file name ending in .xlsx, .csv or .html")
    if not target.parent.is_dir():
        raise InputError(f"the folder {target.parent} does not exist", remedy="create it or choose another folder")
    try:
        write_durable(target, data, 0o644)
    except OSError as exc:
        raise InputError(f"cannot write {target} ({exc.strerror})", remedy="choose a writable folder") from exc
    return target


def file_name(report: Report, fmt: str) -> str:
    """A download name: ``bao-cao-so-hoa-2027-01.xlsx`` or ``bao-cao-so-hoa-20270101-20270131.csv``."""
    p = report.period
    span = p.month or f"{p.first:%Y%m%d}-{p.last:%Y%m%d}"
    return f"bao-cao-so-hoa-{span}{fmt}"


@dataclass(frozen=True, slots=True)
class ReportPage:
    """What the supervisor's page shows: the period, the ratio chart, the three tables (rows as text) and
    one chart (SVG) per table, by dimension."""

    month: str | None
    period_line: str
    ratio_chart_svg: str
    tables: tuple[Table, ...]
    charts: dict[str, str]


def page_view(report: Report) -> ReportPage:
    """The report as the kiosk page renders it (the same tables as the files, ratios as ``66,7%``)."""
    text = tuple(dataclasses.replace(t, rows=tuple(tuple(shown(r)) for r in t.rows)) for t in tables(report))
    svgs = {dim.value: svg for dim, svg in charts(report).items()}
    return ReportPage(report.period.month, period_line(report), ratio_chart(report), text, svgs)
