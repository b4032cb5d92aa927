from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="session")
def vectors(shared_dir: Path) -> dict[str, Any]:
    """The regulation test vectors (../shared/regulation/vectors.json)."""
    data: dict[str, Any] = json.loads((shared_dir / "regulation" / "vectors.json").read_text(encoding="utf-8"))
    return data
