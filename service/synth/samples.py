"""Short sample documents shipped with the package (no ../shared needed) and the corpus loader.

The samples are written from the headers of the public legal corpus; people on certificates are
invented (no real personal data).
"""

from __future__ import annotations

import json
import re
import unicodedata
from importlib import resources
from pathlib import Path
from typing import Any

from service.domain.errors import InputError
from service.synth.model import OwnerFields, SampleDocument

_FIELDS = {"id", "kind", "doc_type", "title", "summary", "issuing_body", "parent_agency", "number_symbol",
           "number_label", "issue_date", "place", "body", "recipients", "signer_title", "signer_name", "owner"}


def _nfc(value: Any) -> Any:
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, list):
        return tuple(_nfc(v) for v in value)
    if isinstance(value, dict):
        return {k: _nfc(v) for k, v in value.items()}
    return value


def document_from_dict(data: dict[str, Any]) -> SampleDocument:
    """Build a :class:`SampleDocument` from its JSON form; InputError names unknown or missing keys."""
    unknown = set(data) - _FIELDS
    if unknown:
        raise InputError(f"sample document has unknown keys {sorted(unknown)}", remedy=f"use only {sorted(_FIELDS)}")
    clean = _nfc(data)
    owner = clean.pop("owner", None)
    try:
        return SampleDocument(**clean, owner=OwnerFields(**owner) if owner else None)
    except TypeError as exc:
        raise InputError(f"sample document is incomplete: {exc}", remedy="add the missing keys") from exc


def sample_documents() -> list[SampleDocument]:
    """The packaged samples (decisions, a law, certificates), sorted by id."""
    folder = resources.files("service.synth") / "samples"
    docs = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".json"):
            docs.append(document_from_dict(json.loads(entry.read_text(encoding="utf-8"))))
    return docs


def sample_document(doc_id: str) -> SampleDocument:
    """One packaged sample by id (InputError listing the ids when unknown)."""
    docs = {d.id: d for d in sample_documents()}
    if doc_id not in docs:
        raise InputError(f"no sample document {doc_id!r}", remedy=f"use one of {', '.join(sorted(docs))}")
    return docs[doc_id]


_DATE_RE = re.compile(r"^(?P<place>[^,]{2,40}), ngày (?P<d>\d{1,2}) tháng (?P<m>\d{1,2}) năm (?P<y>\d{4})")
_TABLEISH = re.compile(r"^[\d.,+%()\s-]*$")


def _corpus_document(row: dict[str, Any], max_chars: int) -> SampleDocument | None:
    lines = [ln.strip() for ln in str(row.get("text", "")).splitlines() if ln.strip()]
    if len(lines) < 8 or not row.get("issuing_body") or not row.get("issue_date"):
        return None
    date_idx = next((i for i, ln in enumerate(lines[:6]) if _DATE_RE.match(ln)), None)
    if date_idx is None:
        return None
    place = _DATE_RE.match(lines[date_idx]).group("place")  # type: ignore[union-attr]
    number_line = lines[date_idx - 1] if ":" in lines[date_idx - 1] else ""
    label, _, symbol = number_line.partition(":")
    summary = lines[date_idx + 2] if len(lines) > date_idx + 2 else ""
    body: list[str] = []
    total = 0
    for ln in lines[date_idx + 3:]:
        if ln.startswith("Nơi nhận") or total > max_chars:
            break
        if _TABLEISH.match(ln) or (len(ln) < 25 and not ln.isupper()):
            if len(ln) < 25 and not ln.startswith(("Chương", "Điều", "Mục")):
                continue
        body.append(ln)
        total += len(ln)
    return document_from_dict({
        "id": str(row.get("id")), "doc_type": str(row.get("doc_type") or lines[date_idx + 1]),
        "title": str(row.get("title") or ""), "summary": summary,
        "issuing_body": str(row["issuing_body"]), "issue_date": str(row["issue_date"]), "place": place,
        "number_symbol": symbol.strip() or None, "number_label": label.strip() or "Số", "body": body,
    })


def corpus_documents(path: Path, *, limit: int = 10, max_chars: int = 3000) -> list[SampleDocument]:
    """Documents parsed from the shared corpus JSONL (header lines + the first ``max_chars`` of body).

    Rows whose header does not parse (no place/date line) are skipped. InputError if the file is
    missing or not JSONL.
    """
    if not path.is_file():
        raise InputError(f"corpus {path} not found", remedy="point at ../shared/data/vi_legal_corpus.jsonl")
    docs: list[SampleDocument] = []
    with path.open(encoding="utf-8") as fh:
        for n, raw in enumerate(fh, start=1):
            try:
                row = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise InputError(f"{path}:{n}: not valid JSON", remedy="the corpus must be JSON lines") from exc
            doc = _corpus_document(row, max_chars)
            if doc is not None:
                docs.append(doc)
            if len(docs) >= limit:
                break
    return docs
