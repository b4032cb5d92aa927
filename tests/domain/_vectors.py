"""Load vectors.json at import time so tests can be parametrized by each vector."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).resolve().parents[2].parent / "shared" / "regulation" / "vectors.json").read_text(encoding="utf-8"))
