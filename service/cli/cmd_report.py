"""``sohoa report monthly|range``: the digitization report as XLSX, CSV or HTML."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from service.domain.errors import ExitCode


def _write(args: argparse.Namespace, period_of: Any) -> int:
    from service.config import load_config
    from service.paths import get_paths
    from service.usecases import reports

    out = Path(args.out)
    reports.output_format(out)  # a wrong extension is refused before anything is counted
    paths = get_paths()
    config = load_config(paths.config)
    report = reports.build_report(period_of(config), office=args.office, paths=paths, config=config)
    target = reports.write_report(report, out)
    t = report.total
    print(f"{target}: received={t.received} components={t.components} results={t.results} reused={t.reused} "
          f"requests={t.requests} returned={t.returned} (on time {t.on_time}, late {t.late})")
    return int(ExitCode.OK)


def cmd_monthly(args: argparse.Namespace) -> int:
    """``sohoa report monthly [--month YYYY-MM] [--office CODE] --out FILE``."""
    from service.usecases.reports import month_period

    return _write(args, lambda cfg: month_period(args.month, config=cfg))


def cmd_range(args: argparse.Namespace) -> int:
    """``sohoa report range --from DD/MM/YYYY --to DD/MM/YYYY [--office CODE] --out FILE``."""
    from service.usecases.reports import day_range

    return _write(args, lambda cfg: day_range(args.first, args.last, config=cfg))


def register(sub: Any) -> None:
    """Add ``report monthly`` and ``report range`` to the ``sohoa`` parser."""
    p = sub.add_parser("report", help="digitization report per office, officer and procedure")
    rsub = p.add_subparsers(dest="report_cmd", required=True)
    m = rsub.add_parser("monthly", help="one month (default: the current one)")
    m.add_argument("--month", metavar="YYYY-MM")
    m.set_defaults(func=cmd_monthly)
    r = rsub.add_parser("range", help="a range of days")
    r.add_argument("--from", dest="first", metavar="DD/MM/YYYY", required=True)
    r.add_argument("--to", dest="last", metavar="DD/MM/YYYY", required=True)
    r.set_defaults(func=cmd_range)
    for q in (m, r):
        q.add_argument("--office", metavar="CODE", help="only the dossiers of this office unit code")
        q.add_argument("--out", metavar="FILE", required=True, help="FILE.xlsx, FILE.csv or FILE.html")
