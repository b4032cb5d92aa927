"""What the province view shows: device rows from telemetry, Vietnamese numbers and dates, input parsing.

Telemetry keys (sent by the device, ``sohoa.telemetry/1``): ``queue``, ``disk_free_bytes``,
``cpu_temp_c``, ``last_sync_success_ts`` (unix seconds), ``oldest_queued_age_s``,
``software_version``, ``model_versions``. A missing or ill-typed key is ``None`` in JSON and "—" on a page.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from service.domain.dates import DateStyle, format_vn_date
from service.domain.errors import ValidationError
from service.domain.identifiers import parse_identifier
from service.sync.protocol import OWNER_RE, storable_text

from .queries import DeviceRow

DASH = "—"
DATE_RE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
MAX_FIELD = 64  # longest identifier / dossier code accepted


class InputProblem(ValidationError):
    """Bad input from a viewer; ``vi`` is the Vietnamese sentence shown on the page."""

    def __init__(self, field: str, message: str, vi: str) -> None:
        super().__init__(field, message, remedy=vi)
        self.vi = vi


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _text(value: Any) -> str | None:
    if isinstance(value, str) and value:
        return value
    if isinstance(value, dict) and value:  # a structured model list, should a device send one
        return ", ".join(f"{k}: {v}" for k, v in sorted(value.items()))
    return None


def device_json(row: DeviceRow) -> dict[str, Any]:
    """One device for the JSON API (``None`` where telemetry lacks the key)."""
    t = row.telemetry
    last_sync = _number(t.get("last_sync_success_ts"))
    queue = _number(t.get("queue"))
    return {
        "device_id": row.device_id, "province": row.province, "office": row.office, "state": row.state,
        "revoked": row.revoked, "history_alert": row.history_alert,
        "last_seen": row.last_seen.isoformat() if row.last_seen else None,
        "queue": int(queue) if queue is not None else None,
        "oldest_queued_age_s": _number(t.get("oldest_queued_age_s")),
        "last_sync_success_ts": last_sync,
        "lag_s": max(0.0, round(row.now - last_sync, 1)) if last_sync is not None else None,
        "cpu_temp_c": _number(t.get("cpu_temp_c")),
        "disk_free_bytes": _number(t.get("disk_free_bytes")),
        "software_version": _text(t.get("software_version")),
        "model_versions": _text(t.get("model_versions")),
    }


def vn_number(value: float, digits: int = 1) -> str:
    """``12345.6`` → ``12.345,6`` (Vietnamese separators)."""
    text = f"{value:,.{digits}f}" if digits else f"{value:,.0f}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def vn_bytes(value: float | None) -> str:
    """Disk space in GB / MB, or "—"."""
    if value is None:
        return DASH
    if value >= 1e9:
        return vn_number(value / 1e9) + " GB"
    return vn_number(value / 1e6) + " MB"


def vn_duration(seconds: float | None) -> str:
    """``4000`` → ``1 giờ 6 phút``; "—" when unknown."""
    if seconds is None:
        return DASH
    s = int(seconds)
    if s < 60:
        return f"{s} giây"
    if s < 3600:
        return f"{s // 60} phút {s % 60} giây"
    if s < 86400:
        return f"{s // 3600} giờ {s % 3600 // 60} phút"
    return f"{s // 86400} ngày {s % 86400 // 3600} giờ"


def vn_datetime(value: datetime | float | None, tz: str) -> str:
    """``dd/mm/yyyy HH:MM`` in the province's time zone; "—" when unknown."""
    if value is None:
        return DASH
    when = value if isinstance(value, datetime) else datetime.fromtimestamp(value, ZoneInfo("UTC"))
    local = when.astimezone(ZoneInfo(tz))
    return f"{format_vn_date(local.date(), DateStyle.NUMERIC)} {local:%H:%M}"


def vn_date(value: date) -> str:
    """``dd/mm/yyyy``."""
    return format_vn_date(value, DateStyle.NUMERIC)


def parse_day(text: str, field: str) -> date:
    """A ``dd/mm/yyyy`` date typed by a viewer; raises :class:`InputProblem`."""
    m = DATE_RE.fullmatch(text.strip())
    if not m:
        raise InputProblem(field, "not dd/mm/yyyy", f"Ngày “{text[:20]}” không đúng dạng dd/mm/yyyy.")
    try:
        return date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
    except ValueError:
        raise InputProblem(field, "not a calendar date", f"Ngày “{text[:20]}” không có trên lịch.") from None


def parse_range(start: str | None, end: str | None, today: date, max_days: int) -> tuple[date, date]:
    """The ``tu`` / ``den`` range (default: the last 30 days to ``today``), at most ``max_days`` long."""
    last = parse_day(end, "den") if end else today
    first = parse_day(start, "tu") if start else last - timedelta(days=29)
    if first > last:
        raise InputProblem("tu", "start after end", "Ngày bắt đầu phải trước hoặc bằng ngày kết thúc.")
    if (last - first).days + 1 > max_days:
        raise InputProblem("den", "range too long", f"Khoảng thời gian dài nhất là {max_days} ngày.")
    return first, last


def parse_owner(text: str) -> str:
    """An owner identifier (CCCD, CMND, passport, tax code, agency code), normalised; raises :class:`InputProblem`."""
    if len(text) > MAX_FIELD:
        raise InputProblem("owner_id", "too long", f"Số định danh dài quá {MAX_FIELD} ký tự.")
    try:
        value = parse_identifier(text).value
    except ValidationError:
        raise InputProblem("owner_id", "not an identifier",
                           "Số định danh không hợp lệ: cần 12 chữ số căn cước, 9 chữ số CMND, mã số thuế, "
                           "số hộ chiếu hoặc mã định danh cơ quan.") from None
    if not OWNER_RE.fullmatch(value):
        raise InputProblem("owner_id", "not storable", "Số định danh không hợp lệ.")
    return value


def parse_dossier(text: str) -> str:
    """A dossier code (mã hồ sơ) as the one-stop-shop system gives it; raises :class:`InputProblem`."""
    value = text.strip()
    if not value:
        raise InputProblem("dossier_code", "empty", "Cần nhập mã hồ sơ mà đơn vị của bạn đang giữ.")
    if len(value) > MAX_FIELD or not storable_text(value) or not re.fullmatch(r"[0-9A-Za-z.\-_/]+", value):
        raise InputProblem("dossier_code", "bad shape", "Mã hồ sơ không hợp lệ (chữ, số, dấu chấm, gạch ngang).")
    return value
