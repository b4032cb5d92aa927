"""Load the regulation test vectors at import time so tests can be parametrized by each vector.

The vectors live in the repository (``tests/data/vectors.json``); the rules they exercise are
described, with their sources, in ``docs/REGULATION.md``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

VECTORS_PATH = Path(__file__).resolve().parents[1] / "data" / "vectors.json"
VECTORS: dict[str, Any] = json.loads(VECTORS_PATH.read_text(encoding="utf-8"))
