"""Pages for the OCR and extraction benchmarks, rendered once and cached as PNG + truth JSON.

Two sources:

* ``tune`` / ``never``: the independent held-out generator (service.synth.heldout) on corpus rows
  no other renderer reads (bench/data/heldout_corpus.jsonl), 300 dpi, its own fonts per slice.
  ``never`` is the slice nobody looks at while tuning; it is reported separately.
* ``project``: the project's own renderer (service.synth.render) on the packaged samples, the
  pages the earlier OCR work was tuned on (kept for continuity).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

CONDITIONS = ("clean", "scanner", "phone")
DATA = Path(__file__).resolve().parent / "data" / "heldout_corpus.jsonl"


@dataclass
class Page:
    """One benchmark page on disk with its ground truth."""

    path: Path
    slice: str
    condition: str
    truth: list[str]
    fields: dict[str, str | None]


def _save(folder: Path, name: str, rendered: object, slice_: str, condition: str,
          fields: dict[str, str | None]) -> Page:
    path = folder / f"{name}.png"
    rendered.image.save(path)  # type: ignore[attr-defined]
    truth = [ln.text for ln in rendered.lines]  # type: ignore[attr-defined]
    meta = {"slice": slice_, "condition": condition, "truth": truth, "fields": fields}
    path.with_suffix(".json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    return Page(path, slice_, condition, truth, fields)


def _cached(path: Path) -> Page | None:
    meta_path = path.with_suffix(".json")
    if not (path.is_file() and meta_path.is_file()):
        return None
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    return Page(path, meta["slice"], meta["condition"], meta["truth"], meta["fields"])


def heldout_fields(spec: object) -> dict[str, str | None]:
    """Extraction truth of a held-out page (values as the extractor reports them)."""
    from service.domain.number_symbol import parse_number_symbol
    from service.extract.catalog import Catalog

    match = Catalog.load().match_heading(spec.doc_type.upper())  # type: ignore[attr-defined]
    return {"document_type": match.entry.code if match else None,
            "number_symbol": str(parse_number_symbol(spec.number_symbol)),  # type: ignore[attr-defined]
            "issue_date": spec.issue_date, "issuing_agency": spec.issuing_agency,  # type: ignore[attr-defined]
            "summary": spec.summary}  # type: ignore[attr-defined]


def heldout_pages(folder: Path, slice_: str, per_condition: int, conditions: tuple[str, ...] = CONDITIONS
                  ) -> list[Page]:
    """``per_condition`` held-out pages of ``slice_`` per condition (rendered, or read from ``folder``)."""
    from service.synth.heldout import plan, render_heldout
    from service.synth.heldout_text import load_rows, specs_for

    folder.mkdir(parents=True, exist_ok=True)
    specs = specs_for(load_rows(DATA), slice_, per_condition)
    pages = []
    for condition in conditions:
        for hp in plan(slice_, per_condition, specs):  # type: ignore[arg-type]
            name = f"{slice_}-{condition}-{hp.seed:04d}-{hp.family}"
            page = _cached(folder / f"{name}.png")
            if page is None:
                rendered = render_heldout(hp.spec, family=hp.family, body_pt=hp.body_pt,
                                          condition=condition, seed=hp.seed)  # type: ignore[arg-type]
                page = _save(folder, name, rendered, slice_, condition, heldout_fields(hp.spec))
            pages.append(page)
    return pages


def project_pages(folder: Path, per_condition: int) -> list[Page]:
    """Pages of the project's own renderer (packaged samples; dpi and font vary by index)."""
    from service.synth.render import render_document
    from service.synth.samples import sample_documents

    folder.mkdir(parents=True, exist_ok=True)
    docs = [d for d in sample_documents() if d.kind == "document"]
    fonts = ("liberation", "dejavu", "noto")
    pages = []
    for condition in CONDITIONS:
        for i in range(per_condition):
            name = f"project-{condition}-{i:02d}"
            page = _cached(folder / f"{name}.png")
            if page is None:
                rendered = render_document(docs[i % len(docs)], dpi=(300, 200)[i % 2], font=fonts[i % 3],
                                           condition=condition, seed=i)[0]
                page = _save(folder, name, rendered, "project", condition, {})
            pages.append(page)
    return pages
