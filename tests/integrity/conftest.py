"""Fixtures of the integrity tests: a real store with two documents, and a direct SQLite editor."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from provisioning.identity import create_identity
from service.domain.fields import FieldSource, FieldValue, Metadata
from service.paths import get_paths
from service.store import NewDocument, PageRecord, Store

OWNER = "001099012345"  # well-formed synthetic CCCD
FORGED = "001099054321"
DOC_TYPE = "KQ.G15.000031"


def open_store(home: Path) -> Store:
    """The service's store under ``home``."""
    return Store.open(get_paths(home))


def add(store: Store, n: int) -> str:
    """Store one small document (fake PDF bytes, one page) and return its id."""
    meta = Metadata(DOC_TYPE, owner_id=FieldValue(OWNER, FieldSource.MANUAL),
                    document_name=FieldValue("Giấy khai sinh", FieldSource.OCR, 0.8))
    pdf = store.files.put(f"%PDF-fake-{n}".encode())
    page = store.files.put(f"page-{n}".encode())
    rec = PageRecord(1, page, "image/jpeg", 100, 100, 300.0, "colour", "front", False, None)
    return store.add_document(NewDocument(f"{OWNER}.{DOC_TYPE}.{n:02d}", meta, pdf, (rec,)), actor="test").id


@pytest.fixture
def two_docs(sohoa_home: Path) -> tuple[str, str]:
    """A store (with a device identity, so checkpoints are signed) holding two documents, one sent."""
    create_identity(get_paths(sohoa_home), "dev-box-0001", "70", "UBND xã Test")
    with open_store(sohoa_home) as store:
        a, b = add(store, 1), add(store, 2)
        row = store.outbox_for(a)[0]
        store.mark_sending(row.id, actor="sync")
        store.mark_delivered(row.id, actor="sync")
        assert store.verify().ok, store.verify().problems
    return a, b


@pytest.fixture
def edit_db(sohoa_home: Path) -> Callable[..., None]:
    """Run SQL on the database file the way an insider with the sqlite3 tool would."""

    def _edit(*sql: str, drop_guards: bool = False) -> None:
        conn = sqlite3.connect(get_paths(sohoa_home).database)
        if drop_guards:
            conn.execute("DROP TRIGGER audit_no_update")
            conn.execute("DROP TRIGGER audit_no_delete")
        for stmt in sql:
            conn.execute(stmt)
        conn.commit()
        conn.close()

    return _edit


def page_image(fmt: str = "PNG", *, size: tuple[int, int] = (620, 877), mode: str = "RGB", seed: int = 0) -> bytes:
    """A small synthetic text-like page at 300 dpi (header bar and black 'text' lines)."""
    import io

    from PIL import Image, ImageDraw

    img = Image.new("RGB", size, (252, 252, 250))
    d = ImageDraw.Draw(img)
    d.rectangle((40, 30, size[0] - 40, 60), fill=(200, 30, 30))
    for i in range(12):
        y = 90 + i * 40 + seed % 7
        d.rectangle((50, y, size[0] - 60 - (i * 13 + seed) % 150, y + 12), fill=(20, 20, 20))
    out = img.convert(mode) if mode != "RGB" else img
    buf = io.BytesIO()
    out.save(buf, fmt, dpi=(300, 300))
    return buf.getvalue()


@pytest.fixture
def digitize_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str]]:
    """Run ``sohoa digitize`` in-process on image bytes; returns (exit code, stderr)."""
    from service.cli.main import main

    def _run(*images: bytes, args: tuple[str, ...] = (), names: tuple[str, ...] = ()) -> tuple[int, str]:
        paths = []
        for i, data in enumerate(images):
            p = tmp_path / (names[i] if i < len(names) else f"page-{i}.img")
            p.write_bytes(data)
            paths.append(str(p))
        capsys.readouterr()
        code = main(["digitize", *paths, "--owner", OWNER, "--doc-type", DOC_TYPE, "--no-ocr", *args])
        return code, capsys.readouterr().err

    return _run
