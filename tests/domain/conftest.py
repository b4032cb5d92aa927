from __future__ import annotations

from typing import Any

import pytest

from tests.domain._vectors import VECTORS


@pytest.fixture(scope="session")
def vectors() -> dict[str, Any]:
    """The regulation test vectors (``tests/data/vectors.json``)."""
    return VECTORS
