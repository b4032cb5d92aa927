"""Extraction benchmark: exact-match accuracy per Art. 9 field on rendered administrative pages and
certificates, under clean / scanner / phone conditions.

Two pipelines are measured:

* ``engine``: service.synth renders the page image, the project's OCR engine reads it
  (service.ocr.engine), the extractor parses the OCR lines. This is the real pipeline; it is slow
  on this machine (~12 s per page), so it runs on a few documents.
* ``truth+noise``: the renderer's ground-truth lines (text + ink boxes of the rendered image,
  including the phone condition's perspective) with OCR-like noise injected (lost tone marks,
  confusable letters, merged header columns, split lines, jittered boxes, lower confidences);
  fast, so it runs on many documents.

Documents: the packaged samples, synthetic administrative documents (Phụ lục III types, agencies,
places, summaries from the corpus titles) and synthetic certificates (random valid personal IDs).

    python -m bench extract           # full
    python -m bench extract --quick   # quick
"""

from __future__ import annotations

import random
import re
import time
import unicodedata
from dataclasses import dataclass, replace
from pathlib import Path

from service.domain.number_symbol import parse_number_symbol
from service.domain.provinces import CCCD_PROVINCES
from service.extract.catalog import Catalog
from service.extract.extractor import extract_pages
from service.ocr.types import OcrLine, OcrPage

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "data" / "vi_legal_corpus.jsonl"
CONDITIONS = ("clean", "scanner", "phone")
ADMIN_FIELDS = ("document_type", "number_symbol", "issue_date", "issuing_agency", "summary")
CERT_FIELDS = ("document_type", "number_symbol", "issue_date", "issuing_agency", "owner_name", "owner_birth_date",
               "owner_id", "valid_until", "residence")
TYPES = [("Quyết định", "QĐ"), ("Thông báo", "TB"), ("Kế hoạch", "KH"), ("Báo cáo", "BC"), ("Tờ trình", "TTr"),
         ("Chỉ thị", "CT"), ("Hướng dẫn", "HD"), ("Nghị quyết", "NQ"), ("Biên bản", "BB"), ("Giấy mời", "GM")]
AGENCIES = [("UBND TỈNH BÌNH PHƯỚC", "SỞ NỘI VỤ", "SNV"), (None, "ỦY BAN NHÂN DÂN TỈNH BÌNH PHƯỚC", "UBND"),
            ("UBND HUYỆN BÙ ĐĂNG", "ỦY BAN NHÂN DÂN XÃ ĐỨC LIỄU", "UBND"), ("BỘ TÀI CHÍNH", "TỔNG CỤC THUẾ", "TCT"),
            ("UBND THÀNH PHỐ ĐỒNG XOÀI", "PHÒNG TÀI NGUYÊN VÀ MÔI TRƯỜNG", "TNMT"), (None, "BỘ NỘI VỤ", "BNV"),
            ("SỞ Y TẾ TỈNH NAM ĐỊNH", "TRUNG TÂM Y TẾ HUYỆN VỤ BẢN", "TTYT")]
PLACES = ["Bình Phước", "Đồng Xoài", "Bù Đăng", "Hà Nội", "Nam Định", "Đức Liễu", "Vụ Bản"]
SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ"]
MIDDLE = ["Văn", "Thị", "Hữu", "Minh", "Ngọc", "Đức", "Thanh", "Quốc"]
GIVEN = ["An", "Bình", "Cường", "Dũng", "Hoa", "Hương", "Lan", "Nam", "Phúc", "Thảo", "Trung", "Yến"]
CERTS = ["Giấy xác nhận thông tin về cư trú", "Giấy xác nhận tình trạng hôn nhân"]
CONFUSABLE = {"ạ": "a", "ả": "á", "ổ": "ố", "ộ": "ô", "ệ": "ê", "ư": "u", "ơ": "o", "ỏ": "ó", "ẫ": "ấ", "O": "0",
              "l": "1", "ằ": "ầ", "ữ": "ừ"}


@dataclass
class Case:
    doc: object
    family: str
    truth: dict[str, str | None]


def _summaries() -> list[str]:
    from service.synth.samples import corpus_documents

    titles = [d.title for d in corpus_documents(CORPUS, limit=80, max_chars=200)] if CORPUS.is_file() else []
    out = []
    for t in titles:
        rest = re.sub(r"^(QUYẾT ĐỊNH|LUẬT|BỘ LUẬT|NGHỊ QUYẾT)\s+", "", t).strip()
        if 10 < len(rest) < 160:
            out.append(rest[0] + rest[1:].lower())
    return out or ["Về việc ban hành Quy chế số hóa hồ sơ thủ tục hành chính"]


def _cccd(rng: random.Random, dob: str, female: bool) -> str:
    year = int(dob[:4])
    g = (year // 100 - 19) * 2 + (1 if female else 0)
    return f"{rng.choice(list(CCCD_PROVINCES))}{g}{year % 100:02d}{rng.randrange(10**6):06d}"


def build_cases(n_admin: int, n_cert: int, seed: int = 7) -> list[Case]:
    """Packaged samples plus synthetic administrative documents and certificates with ground truth."""
    from service.synth.model import OwnerFields
    from service.synth.samples import sample_documents

    rng = random.Random(seed)
    cat = Catalog.load()
    summaries = _summaries()
    docs = [d for d in sample_documents()]
    templates = {d.kind: d for d in docs}
    for i in range(n_admin):
        name, abbr = TYPES[i % len(TYPES)]
        parent, agency, short = rng.choice(AGENCIES)
        date = f"{rng.randint(2005, 2025)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        number = f"{rng.randint(1, 2999):02d}/{abbr}-{short}"
        docs.append(replace(templates["document"], id=f"admin-{i}", doc_type=name, title=name.upper(),
                            issuing_body=agency, parent_agency=parent, number_symbol=number, issue_date=date,
                            place=rng.choice(PLACES), summary=rng.choice(summaries), recipients=()))
    for i in range(n_cert):
        female = rng.random() < 0.5
        dob = f"{rng.randint(1940, 2005)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        issue = f"{rng.randint(2020, 2025)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        until = f"{int(issue[:4]) + 1}{issue[4:]}"
        full = f"{rng.choice(SURNAMES)} {'Thị' if female else rng.choice(MIDDLE)} {rng.choice(GIVEN)}"
        owner = OwnerFields(full, dob, _cccd(rng, dob, female), f"Thôn {rng.randint(1, 9)}, xã Đức Liễu, "
                            "huyện Bù Đăng, tỉnh Bình Phước", until)
        kind = CERTS[i % 2]
        docs.append(replace(templates["certificate"], id=f"cert-{i}", doc_type=kind, title=kind.upper(),
                            number_symbol=f"{rng.randint(1, 999)}/GXN", issue_date=issue, owner=owner,
                            body=(f"Xác nhận thông tin của công dân {full} như sau:",)))
    cases = []
    for d in docs:
        match = cat.match_heading(d.doc_type.upper())
        truth: dict[str, str | None] = {
            "document_type": match.entry.code if match else None,
            "number_symbol": str(parse_number_symbol(d.number_symbol)) if d.number_symbol else None,
            "issue_date": d.issue_date, "issuing_agency": unicodedata.normalize("NFC", d.issuing_body.upper()),
            "summary": " ".join(d.summary.split()) or None,
        }
        if d.owner is not None:
            truth.update(owner_name=d.owner.full_name, owner_birth_date=d.owner.date_of_birth,
                         owner_id=d.owner.personal_id, valid_until=d.owner.valid_until, residence=d.owner.residence)
        cases.append(Case(d, "certificate" if d.owner else "document", truth))
    return cases


def _noisy_text(text: str, rng: random.Random, p_tone: float, p_conf: float) -> str:
    chars = list(text)
    for i, ch in enumerate(chars):
        r = rng.random()
        if r < p_tone and unicodedata.normalize("NFD", ch) != ch and not ch.isdigit():
            base = unicodedata.normalize("NFD", ch)
            chars[i] = unicodedata.normalize("NFC", base[:-1])
        elif r < p_tone + p_conf and ch in CONFUSABLE:
            chars[i] = CONFUSABLE[ch]
    return "".join(chars)


def noisy_page(page: object, condition: str, rng: random.Random) -> OcrPage:
    """Ground-truth lines of a rendered page with OCR-like noise for ``condition``."""
    p_tone, p_conf, p_merge, jitter, low = {"clean": (0.0, 0.0, 0.0, 1, 0.97), "scanner": (0.004, 0.002, 0.0, 3, 0.85),
                                            "phone": (0.01, 0.005, 0.3, 8, 0.7)}[condition]
    truth = list(page.lines)  # type: ignore[attr-defined]
    lines: list[OcrLine] = []
    i = 0
    while i < len(truth):
        t = truth[i]
        text, box = t.text, t.box
        nxt = truth[i + 1] if i + 1 < len(truth) else None
        if (nxt is not None and rng.random() < p_merge and abs(nxt.box[1] - box[1]) < (box[3] - box[1]) // 2
                and t.role in ("agency", "parent_agency", "number")):
            text, box = f"{text} {nxt.text}", (box[0], min(box[1], nxt.box[1]), nxt.box[2], max(box[3], nxt.box[3]))
            i += 1
        if t.role not in ("number", "date") or condition == "phone":
            text = _noisy_text(text, rng, p_tone, p_conf)
        j = [rng.randint(-jitter, jitter) for _ in range(4)]
        b = (box[0] + j[0], box[1] + j[1], max(box[0] + j[0], box[2] + j[2]), max(box[1] + j[1], box[3] + j[3]))
        lines.append(OcrLine(text, b, rng.uniform(low, 1.0)))
        i += 1
    image = page.image  # type: ignore[attr-defined]
    return OcrPage(image.width, image.height, tuple(lines))


TEXT_FIELDS = ("issuing_agency", "summary", "owner_name", "residence")


def _squash(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


def _score(cases: list[tuple[Case, object, str]], fields: tuple[str, ...]) -> dict[str, tuple[int, int]]:
    """(hits, total) per field; misses whose exact text is absent from the OCR output are counted
    under ``<field>#ocr`` (an OCR character error the extractor cannot undo)."""
    out: dict[str, tuple[int, int]] = {}
    for case, ex, ocr_text in cases:
        for name in fields:
            want = case.truth.get(name)
            if want is None:
                continue
            if name == "document_type":
                got = ex.document_type.code  # type: ignore[attr-defined]
            else:
                fv = ex.get(name)  # type: ignore[attr-defined]
                got = fv.value if fv is not None else None
            ok, total = out.get(name, (0, 0))
            out[name] = (ok + (got == want), total + 1)
            if got != want and name in TEXT_FIELDS and _squash(want) not in ocr_text:
                n, _ = out.get(f"{name}#ocr", (0, 0))
                out[f"{name}#ocr"] = (n + 1, 0)
    return out


def _table(title: str, results: dict[tuple[str, str], dict[str, tuple[int, int]]], fields: tuple[str, ...]) -> str:
    rows = [f"{title}; 'n OCR' = misses whose text the OCR itself got wrong",
            "| field | " + " | ".join(f"{c}" for c in CONDITIONS) + " |",
            "|---|" + "---|" * len(CONDITIONS)]
    for name in fields:
        cells = []
        for cond in CONDITIONS:
            res = results.get(("x", cond), {})
            ok, total = res.get(name, (0, 0))
            ocr_miss = res.get(f"{name}#ocr", (0, 0))[0]
            note = f", {ocr_miss} OCR" if ocr_miss else ""
            cells.append(f"{100 * ok / total:.1f} % ({ok}/{total}{note})" if total else "–")
        rows.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def _measure(cases: list[Case], engine: object | None, dpi: int, seed: int) -> tuple[dict, dict, float, int]:
    from service.synth.render import render_document

    rng = random.Random(seed)
    admin: dict[tuple[str, str], dict[str, tuple[int, int]]] = {}
    cert: dict[tuple[str, str], dict[str, tuple[int, int]]] = {}
    spent, pages = 0.0, 0
    for cond in CONDITIONS:
        done: list[tuple[Case, object, str]] = []
        for k, case in enumerate(cases):
            rendered = render_document(case.doc, dpi=dpi, condition=cond, seed=seed + k)  # type: ignore[arg-type]
            if engine is not None:
                ocr = [engine.read_page(p.image, source="camera" if cond == "phone" else "scanner")  # type: ignore
                       for p in rendered[:1]]
            else:
                ocr = [noisy_page(p, cond, rng) for p in rendered]
            t = time.perf_counter()
            joined = _squash(" ".join(ln.text for p in ocr for ln in p.lines))
            done.append((case, extract_pages(ocr), joined))
            spent += time.perf_counter() - t
            pages += len(ocr)
        docs = [c for c in done if c[0].family == "document"]
        certs = [c for c in done if c[0].family == "certificate"]
        admin[("x", cond)] = _score(docs, ADMIN_FIELDS)
        cert[("x", cond)] = _score(certs, CERT_FIELDS)
    return admin, cert, spent, pages


def extracted(ex: object, name: str) -> str | None:
    """The value extraction found for field ``name`` (a document type as its catalogue code), as the
    held-out pages' truth writes it; ``None`` where it found none."""
    if name == "document_type":
        return ex.document_type.code  # type: ignore[attr-defined, no-any-return]
    fv = ex.get(name)  # type: ignore[attr-defined]
    return fv.value if fv else None  # type: ignore[no-any-return]


def heldout_table(engine: object, slice_: str, per_condition: int) -> str:
    """Exact match per field on held-out first pages (service.synth.heldout) read by ``engine``."""
    import tempfile

    from bench.ocr_pages import heldout_pages

    results: dict[str, dict[str, tuple[int, int]]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-extract-") as tmp:
        for page in heldout_pages(Path(tmp), slice_, per_condition):
            source = "camera" if page.condition == "phone" else "scanner"
            ex = extract_pages(engine.read_file(page.path, source=source)[:1])  # type: ignore[attr-defined]
            res = results.setdefault(page.condition, {})
            for name in ADMIN_FIELDS:
                want = page.fields.get(name)
                if want is None:
                    continue
                got = extracted(ex, name)
                ok, total = res.get(name, (0, 0))
                res[name] = (ok + (got == want), total + 1)
    rows = [f"Extraction on the held-out '{slice_}' slice through the OCR engine ({per_condition} first pages per "
            "condition, 300 dpi, phone read with --source camera; exact match)",
            "| field | " + " | ".join(CONDITIONS) + " |", "|---|" + "---|" * len(CONDITIONS)]
    for name in ADMIN_FIELDS:
        cells = []
        for cond in CONDITIONS:
            ok, total = results.get(cond, {}).get(name, (0, 0))
            cells.append(f"{100 * ok / total:.1f} % ({ok}/{total})" if total else "–")
        rows.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def run(quick: bool) -> str:
    """Run the benchmark; returns the printed tables."""
    out = []
    n_admin, n_cert = (12, 8) if quick else (30, 20)
    cases = build_cases(n_admin, n_cert)
    admin, cert, spent, pages = _measure(cases, None, 150, 11)
    head = (f"truth+noise, {len(cases)} documents x 3 conditions, 150 dpi; injected OCR text errors count as "
            "misses")
    out.append(_table(f"Extraction, administrative documents ({head})", admin, ADMIN_FIELDS))
    out.append(_table(f"Extraction, certificates and forms ({head})", cert, CERT_FIELDS))
    out.append(f"extraction time: {1000 * spent / max(1, pages):.1f} ms per page (excluding OCR)")
    try:
        from service.ocr.engine import get_engine

        engine = get_engine()
    except Exception as exc:  # the OCR room's engine may be absent or its models missing
        out.append(f"engine pipeline skipped: {type(exc).__name__}: {exc}")
        return "\n\n".join(out)
    out.append(heldout_table(engine, "never", 4 if quick else 120))
    extra = 0 if quick else 3
    few = [c for c in cases if c.doc.id.startswith(("qd-", "gxn-"))]  # type: ignore[attr-defined]
    few += [c for c in cases if c.doc.id.startswith("admin-")][:extra]  # type: ignore[attr-defined]
    few += [c for c in cases if c.doc.id.startswith("cert-")][:extra]  # type: ignore[attr-defined]
    t = time.perf_counter()
    admin, cert, _, pages = _measure(few, engine, 200, 5)
    head = f"OCR engine, {len(few)} documents x 3 conditions, 200 dpi, first page"
    out.append(_table(f"Extraction through the OCR engine, administrative documents ({head})", admin, ADMIN_FIELDS))
    out.append(_table(f"Extraction through the OCR engine, certificates ({head})", cert, CERT_FIELDS))
    out.append(f"engine pipeline: {(time.perf_counter() - t) / max(1, pages):.1f} s per page (render + OCR + extract)")
    return "\n\n".join(out)
