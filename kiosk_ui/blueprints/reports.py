"""Supervisor's monthly report: tables per office / officer / procedure, SVG charts, downloads."""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, request

from kiosk_ui import security
from kiosk_ui.context import audit, backend, t
from service.errors import ValidationError
from service.usecases import reports

bp = Blueprint("reports", __name__)
FORMATS = (".xlsx", ".csv", ".html")


@bp.before_request
def _supervisor_only() -> None:
    """Only a signed-in supervisor may see the report (401: sign in; 403: another role)."""
    s = security.current()
    if s is None:
        abort(401)
    if s.role != "supervisor":
        abort(403)


def _report(month: str | None) -> reports.Report:
    b = backend()
    period = reports.month_period(month or None, config=b.config)
    return reports.build_report(period, paths=b.paths, config=b.config)


@bp.get("/")
def monthly() -> Response | str:
    """The month's tables and charts (``?month=YYYY-MM``; default the current month)."""
    month = request.args.get("month", "").strip()
    try:
        report = _report(month)
    except ValidationError:
        return Response(render_template("error.html", code=400, message=t("reports.bad_month")), status=400)
    audit("report.view", report.period.month or "")
    return render_template("reports/monthly.html", view=reports.page_view(report), formats=FORMATS)


@bp.get("/download<fmt>")
def download(fmt: str) -> Response:
    """The month's report as ``.xlsx``, ``.csv`` or ``.html`` (an attachment)."""
    if fmt not in FORMATS:
        abort(404)
    month = request.args.get("month", "").strip()
    try:
        report = _report(month)
    except ValidationError:
        return Response(render_template("error.html", code=400, message=t("reports.bad_month")), status=400)
    data, media = reports.render(report, fmt)
    audit("report.download", f"{report.period.month}{fmt}")
    return Response(data, mimetype=media.split(";")[0], headers={
        "Content-Disposition": f'attachment; filename="{reports.file_name(report, fmt)}"'})
