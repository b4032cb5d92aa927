"""The local procedure catalogue: fields (lĩnh vực), procedures (TTHC) and their dossier components.

Imported from a JSON or CSV file the province provides; validated completely before it replaces
the active catalogue, so a bad file is refused with the line/entry at fault and loses nothing.
"""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from service.domain.codes import parse_result_type_code, validate_document_type_code
from service.domain.errors import ValidationError
from service.domain.limits import json_depth_problem
from service.domain.text import hygiene_problem
from service.durable import write_durable
from service.errors import InputError, NotFoundError

CSV_COLUMNS = ("field_code", "field_name", "procedure_code", "procedure_name", "return_days",
               "component_code", "component_name", "pages", "required")
#: Optional CSV columns: the procedure's result type code (on any of its lines) and a component's
#: expected document type codes (separated by ``;``).
CSV_OPTIONAL = ("result_type", "document_types")
MAX_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Component:
    """One paper of a procedure's dossier (thành phần hồ sơ) and its usual page count."""

    code: str
    name: str
    pages: int
    required: bool
    document_types: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Procedure:
    """One administrative procedure (TTHC) with its components and promised processing days."""

    code: str
    name: str
    return_days: int
    components: tuple[Component, ...]
    result_type: str | None = None

    def component(self, code: str) -> Component:
        """The component ``code`` of this procedure."""
        for c in self.components:
            if c.code == code:
                return c
        raise NotFoundError(f"component {code!r} is not part of procedure {self.code}")


@dataclass(frozen=True, slots=True)
class Field:
    """A field of administration (lĩnh vực) grouping procedures."""

    code: str
    name: str
    procedures: tuple[Procedure, ...]


@dataclass(frozen=True, slots=True)
class ProcedureCatalogue:
    """The whole catalogue."""

    fields: tuple[Field, ...]

    def procedure(self, code: str) -> Procedure:
        """The procedure ``code``; :class:`NotFoundError` when unknown."""
        for f in self.fields:
            for p in f.procedures:
                if p.code == code:
                    return p
        raise NotFoundError(f"procedure {code!r} is not in the catalogue",
                            remedy="choose a procedure from the list or import an updated catalogue")


def _text(entry: dict[str, Any], key: str, where: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"{where}: '{key}' is missing or empty", remedy="fill it in and import again")
    problem = hygiene_problem(key, value, max_length=500)
    if problem is not None:
        raise InputError(f"{where}: '{key}' {problem}", remedy="type it again as plain text and import again")
    return unicodedata.normalize("NFC", value.strip())


def _int(value: Any, key: str, where: str, lo: int, hi: int) -> int:
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise InputError(f"{where}: '{key}' must be a whole number", remedy="fix the value") from None
    if not lo <= n <= hi:
        raise InputError(f"{where}: '{key}' must be between {lo} and {hi}", remedy="fix the value")
    return n


def _result_type(entry: dict[str, Any], where: str) -> str | None:
    """The procedure's result type code (``KQ.G15.000031``), None when the entry has none."""
    raw = entry.get("result_type")
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if not isinstance(raw, str):
        raise InputError(f"{where}: 'result_type' must be a text code", remedy="e.g. \"KQ.G15.000031\"")
    try:
        return parse_result_type_code(raw, field_name="result_type").value
    except ValidationError as exc:
        raise InputError(f"{where}: {exc.message}", remedy=exc.remedy) from None


def _doc_types(raw: Any, where: str) -> tuple[str, ...]:
    """A component's expected document type codes (a list, or ``;``-separated text from CSV)."""
    if raw is None:
        return ()
    items = [p for p in raw.split(";")] if isinstance(raw, str) else raw
    if not isinstance(items, list) or not all(isinstance(x, str) for x in items):
        raise InputError(f"{where}: 'document_types' must be a list of codes", remedy="e.g. [\"KQ.G15.000031\"]")
    out = []
    for item in (x.strip() for x in items):
        if not item:
            continue
        try:
            out.append(validate_document_type_code(item))
        except ValidationError as exc:
            raise InputError(f"{where}: document_types: {exc.reason}", remedy=exc.remedy) from None
    return tuple(dict.fromkeys(out))


def _from_dict(data: Any) -> ProcedureCatalogue:
    if not isinstance(data, dict) or not isinstance(data.get("fields"), list):
        raise InputError("catalogue: a JSON object with a 'fields' list is expected",
                         remedy="use the layout of the bundled sample catalogue")
    out: list[Field] = []
    seen: set[str] = set()
    for i, fd in enumerate(data["fields"], 1):
        where = f"fields[{i}]"
        if not isinstance(fd, dict) or not isinstance(fd.get("procedures"), list):
            raise InputError(f"{where}: needs 'code', 'name' and a 'procedures' list", remedy="fix the entry")
        procs: list[Procedure] = []
        for j, pd in enumerate(fd["procedures"], 1):
            pw = f"{where}.procedures[{j}]"
            if not isinstance(pd, dict) or not isinstance(pd.get("components"), list) or not pd["components"]:
                raise InputError(f"{pw}: needs a non-empty 'components' list", remedy="fix the entry")
            code = _text(pd, "code", pw)
            if code in seen:
                raise InputError(f"{pw}: procedure code {code} appears twice", remedy="keep one entry per code")
            seen.add(code)
            comps = []
            for k, cd in enumerate(pd["components"], 1):
                cw = f"{pw}.components[{k}]"
                if not isinstance(cd, dict):
                    raise InputError(f"{cw}: must be an object", remedy="fix the entry")
                comps.append(Component(_text(cd, "code", cw), _text(cd, "name", cw),
                                       _int(cd.get("pages", 1), "pages", cw, 1, 500), bool(cd.get("required", True)),
                                       _doc_types(cd.get("document_types"), cw)))
            if len({c.code for c in comps}) != len(comps):
                raise InputError(f"{pw}: component codes must be unique", remedy="rename the duplicate")
            days = _int(pd.get("return_days", 0), "return_days", pw, 0, 365)
            procs.append(Procedure(code, _text(pd, "name", pw), days, tuple(comps), _result_type(pd, pw)))
        out.append(Field(_text(fd, "code", where), _text(fd, "name", where), tuple(procs)))
    if not out:
        raise InputError("catalogue: no fields", remedy="add at least one field with one procedure")
    return ProcedureCatalogue(tuple(out))


def _csv_to_dict(text: str) -> dict[str, Any]:
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in CSV_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise InputError(f"catalogue CSV: missing columns {', '.join(missing)}",
                         remedy=f"the header must be: {','.join(CSV_COLUMNS)}")
    fields: dict[str, dict[str, Any]] = {}
    procs: dict[str, dict[str, Any]] = {}
    for line, row in enumerate(reader, 2):
        where = f"line {line}"
        fcode = _text(row, "field_code", where)
        fd = fields.setdefault(fcode, {"code": fcode, "name": _text(row, "field_name", where), "procedures": []})
        pcode = _text(row, "procedure_code", where)
        if pcode not in procs:
            procs[pcode] = {"code": pcode, "name": _text(row, "procedure_name", where),
                            "return_days": row.get("return_days") or 0, "components": []}
            fd["procedures"].append(procs[pcode])
        if (row.get("result_type") or "").strip():
            procs[pcode]["result_type"] = row["result_type"]
        procs[pcode]["components"].append({
            "code": _text(row, "component_code", where), "name": _text(row, "component_name", where),
            "pages": row.get("pages") or 1,
            "required": (row.get("required") or "1").strip().lower() in ("1", "true", "yes", "x", "có"),
            "document_types": row.get("document_types") or None,
        })
    return {"fields": list(fields.values())}


def parse_catalogue(raw: bytes, filename: str) -> ProcedureCatalogue:
    """Validate an uploaded catalogue (``.json`` or ``.csv``, UTF-8) into a :class:`ProcedureCatalogue`."""
    if len(raw) > MAX_BYTES:
        raise InputError("catalogue file is larger than 5 MB", remedy="split or trim the file")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError("catalogue file is not UTF-8 text", remedy="save it as UTF-8 and import again") from None
    if filename.lower().endswith(".csv"):
        try:
            return _from_dict(_csv_to_dict(text))
        except csv.Error as exc:
            raise InputError(f"catalogue CSV: {exc}", remedy="fix the CSV layout (one procedure component a line)") \
                from None
    deep = json_depth_problem(text)
    if deep is not None:
        raise InputError(f"catalogue JSON: {deep}", remedy="use the layout of the bundled sample catalogue")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"catalogue JSON: line {exc.lineno}: {exc.msg}", remedy="fix the JSON syntax") from None
    except RecursionError:
        raise InputError("catalogue JSON: nested too deep", remedy="use the layout of the bundled sample") from None
    return _from_dict(data)


def to_json(cat: ProcedureCatalogue) -> dict[str, Any]:
    """The canonical JSON form (the layout of the bundled sample)."""
    return {"version": 1, "fields": [
        {"code": f.code, "name": f.name, "procedures": [
            {"code": p.code, "name": p.name, "return_days": p.return_days,
             **({"result_type": p.result_type} if p.result_type else {}), "components": [
                {"code": c.code, "name": c.name, "pages": c.pages, "required": c.required,
                 **({"document_types": list(c.document_types)} if c.document_types else {})}
                for c in p.components]}
            for p in f.procedures]} for f in cat.fields]}


def to_csv(cat: ProcedureCatalogue) -> str:
    """The catalogue as CSV (one component a line, the columns :func:`parse_catalogue` reads)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*CSV_COLUMNS, *CSV_OPTIONAL])
    for f in cat.fields:
        for p in f.procedures:
            for c in p.components:
                writer.writerow([f.code, f.name, p.code, p.name, p.return_days, c.code, c.name, c.pages,
                                 int(c.required), p.result_type or "", ";".join(c.document_types)])
    return out.getvalue()


def all_procedures(cat: ProcedureCatalogue) -> list[Procedure]:
    """Every procedure of the catalogue, in catalogue order."""
    return [p for f in cat.fields for p in f.procedures]


def load_catalogue(active: Path, fallback: Path) -> ProcedureCatalogue:
    """The imported catalogue at ``active`` when present, else the bundled ``fallback``."""
    path = active if active.exists() else fallback
    return parse_catalogue(path.read_bytes(), path.name)


def import_catalogue(raw: bytes, filename: str, active: Path) -> ProcedureCatalogue:
    """Validate ``raw`` and atomically make it the active catalogue; a bad file changes nothing."""
    cat = parse_catalogue(raw, filename)
    active.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_durable(active, json.dumps(to_json(cat), ensure_ascii=False, indent=1).encode("utf-8"), 0o600)
    return cat
