"""The import contract: every room imports only what ``docs/ARCHITECTURE.md`` §4 allows.

The checker (:mod:`tests.support.rooms`) parses every module under ``service``, ``firmware``,
``kiosk_ui``, ``provisioning`` and ``province_gateway`` with :mod:`ast`; nothing is imported.
Each rule also has a test feeding it a synthetic breach, so a rule that silently stopped matching
would fail here.

Print the room map (modules per room, arrows, cycles, longest chains, breaches) with
``python -m tests.test_architecture``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import pytest

from tests.support import rooms

# Known breaches of the import contract: none since issue 11. The test fails
# on any breach not listed here, and on an entry that no longer happens; keep the set empty.
KNOWN_BREACHES: frozenset[str] = frozenset()


@pytest.fixture(scope="module")
def graph() -> rooms.Graph:
    """The repository's import graph."""
    return rooms.load_graph()


def test_no_new_breach(graph: rooms.Graph) -> None:
    """A new import against the rules fails here, naming the rule, the module and the chain."""
    new = sorted(rooms.breaches(graph) - KNOWN_BREACHES)
    assert not new, "import-contract breaches (see docs/ARCHITECTURE.md §4):\n" + "\n".join(new)


def test_known_breaches_still_happen(graph: rooms.Graph) -> None:
    """The allow-list only shrinks: an entry that no longer happens must be deleted."""
    gone = sorted(KNOWN_BREACHES - rooms.breaches(graph))
    assert not gone, "fixed: delete these lines from KNOWN_BREACHES:\n" + "\n".join(gone)


def test_the_checker_sees_every_room(graph: rooms.Graph) -> None:
    """The graph holds the modules the rules are about (a wrong root would make every rule pass)."""
    for name in ("service.domain.errors", "service.store.store", "firmware.token", "kiosk_ui.app",
                 "province_gateway.mqtt", "provisioning.backup", "service.usecases.digitize"):
        assert name in graph.modules
    assert len(graph.modules) > 150
    assert any(t == "service.sync.mqttbase" for t, _ in graph.modules["province_gateway.mqtt"].imports)


def _graph(sources: dict[str, str]) -> rooms.Graph:
    """A synthetic repository: a clean baseline plus ``sources`` (module name → source)."""
    base = {
        "service.domain.errors": "import enum\n",
        "service.domain.codes": "from service.domain.errors import SohoaError\nimport re\n",
        "service.store.store": "import sqlite3\nfrom service.domain.errors import SohoaError\n",
        "service.store.config": "from service.configbase import StrictModel\n",
        "service.configbase": "import pydantic\n",
        "service.config": "from service.store.config import StoreConfig\nfrom firmware.config import CameraConfig\n",
        "service.usecases.digitize": "from service.store.store import Store\nfrom firmware.token import T\n",
        "service.sync.protocol": "from service.sync import wire\nfrom service.domain.errors import SyncError\n",
        "service.sync.wire": "import json\n",
        "service.sync.mqttbase": "import paho.mqtt.client\nfrom service.domain.errors import SyncError\n",
        "service.sync.worker": "from service.store.store import Store\nfrom service.sync.mqttbase import Backoff\n",
        "firmware.config": "import pydantic\n",
        "firmware.token": "import pkcs11\nfrom firmware.config import TokenConfig\n",
        "kiosk_ui.app": "from service.usecases.digitize import digitize\nfrom service.config import Config\n",
        "province_gateway.db": "import psycopg\n\ndef q(c):\n    c.execute('SELECT 1')\n",
        "province_gateway.service": "from service.sync import protocol\nfrom service.sync.mqttbase import Backoff\n"
                                    "from .db import q\n",
        "provisioning.devtoken": "from firmware.token import T\n",
    }
    base.update(sources)
    return rooms.graph_from_sources(base, packages=["service.sync"])


def test_the_synthetic_baseline_is_clean() -> None:
    """The baseline of the breach tests passes every rule, so each breach below is the one detected."""
    assert rooms.breaches(_graph({})) == set()


BREACHES: list[tuple[Callable[[rooms.Graph], list[str]], dict[str, str], str]] = [
    (rooms.domain_pure, {"service.domain.codes": "from service.store.store import Store\n"},
     "domain_pure: service.domain.codes -> service.store.store"),
    (rooms.domain_pure, {"service.domain.codes": "import sqlite3\n"}, "domain_pure: service.domain.codes -> sqlite3"),
    (rooms.domain_pure, {"service.domain.codes": "import paho.mqtt.client as mqtt\n"},
     "domain_pure: service.domain.codes -> paho.mqtt.client"),
    (rooms.domain_pure, {"service.domain.codes": "def load(p):\n    return open(p).read()\n"},
     "domain_pure: service.domain.codes -> open()"),
    (rooms.domain_pure, {"service.domain.codes": "from pathlib import Path\n"},
     "domain_pure: service.domain.codes -> pathlib"),
    (rooms.firmware_alone, {"firmware.token": "from service.domain.errors import SohoaError\n"},
     "firmware_alone: firmware.token -> service.domain.errors"),
    (rooms.firmware_alone, {"firmware.token": "def f():\n    from kiosk_ui.app import x\n"},
     "firmware_alone: firmware.token -> kiosk_ui.app"),
    (rooms.kiosk_chains, {"kiosk_ui.app": "import sqlite3\n"}, "kiosk_chains: kiosk_ui.app -> sqlite3"),
    (rooms.kiosk_chains, {"kiosk_ui.app": "from service.store import store\n"},
     "kiosk_chains: kiosk_ui.app -> service.store.store"),
    (rooms.kiosk_chains, {"kiosk_ui.views": "from . import app\n", "kiosk_ui.app": "from firmware.token import T\n"},
     "kiosk_chains: kiosk_ui.app -> firmware.token"),
    # indirect: through a shared module that is not the use-case door
    (rooms.kiosk_chains, {"service.config": "from service.store.config import C\n"
                                            "from service.signing.config import S\n",
                          "service.signing.config": "from firmware.token import PinPolicy\n"},
     "kiosk_chains: kiosk_ui.app -> service.config -> service.signing.config -> firmware.token"),
    # a configuration model that imports its room's SQLite is no longer a harmless leaf
    (rooms.kiosk_chains, {"service.store.config": "import sqlite3\n"},
     "kiosk_chains: kiosk_ui.app -> service.config -> service.store.config -> sqlite3"),
    (rooms.kiosk_chains, {"kiosk_ui.app": "from service.signing.signer import Signer\n"},
     "kiosk_chains: kiosk_ui.app -> service.signing.signer"),
    (rooms.kiosk_chains, {"kiosk_ui.app": "from provisioning.devtoken import T\n"},
     "kiosk_chains: kiosk_ui.app -> provisioning.devtoken"),
    (rooms.gateway_imports, {"province_gateway.service": "from service.store.store import Store\n"},
     "gateway_imports: province_gateway.service -> service.store.store"),
    (rooms.gateway_imports, {"province_gateway.service": "from service.sync.worker import SyncWorker\n"},
     "gateway_imports: province_gateway.service -> service.sync.worker"),
    (rooms.gateway_imports, {"province_gateway.local.broker": "from service.sync.protocol import topic\n"},
     "gateway_imports: province_gateway.local.broker -> service.sync.protocol"),
    # the allowed protocol module itself starts importing the device's store
    (rooms.gateway_imports, {"service.sync.protocol": "from service.store.store import Store\n"},
     "gateway_imports: service.sync.protocol -> service.store.store"),
    (rooms.store_no_stage, {"service.store.store": "from service.ocr.engine import get_engine\n"},
     "store_no_stage: service.store.store -> service.ocr.engine"),
    (rooms.store_no_stage, {"service.store.faults": "from service.sync.worker import Stage\n"},
     "store_no_stage: service.store.faults -> service.sync.worker"),
    (rooms.sql_only_in_store, {"service.usecases.digitize": "def f(conn):\n    conn.execute('SELECT 1')\n"},
     "sql_only_in_store: service.usecases.digitize -> sql"),
    (rooms.sql_only_in_store, {"provisioning.devtoken": "import sqlite3\n"},
     "sql_only_in_store: provisioning.devtoken -> sql"),
    (rooms.sql_only_in_store, {"province_gateway.service": "from sqlite3 import connect\n"},
     "sql_only_in_store: province_gateway.service -> sql"),
]


@pytest.mark.parametrize(("rule", "sources", "expected"), BREACHES, ids=[b[2].split(":")[0] + "-" + str(i)
                                                                         for i, b in enumerate(BREACHES)])
def test_each_rule_fails_on_a_deliberate_breach(rule: Callable[[rooms.Graph], list[str]], sources: dict[str, str],
                                                expected: str) -> None:
    """Each rule reports the breach fed to it, and the whole contract does too."""
    g = _graph(sources)
    assert expected in rule(g)
    assert expected in rooms.breaches(g)


def test_the_use_cases_are_the_kiosks_only_door() -> None:
    """The kiosk may reach the store and drivers through ``service.usecases`` (the baseline does)."""
    g = _graph({})
    assert any(t == "service.usecases.digitize" for t, _ in g.modules["kiosk_ui.app"].imports)
    assert rooms.kiosk_chains(g) == []
    # the same import from a module outside the door is a breach
    g = _graph({"service.helpers": "from service.store.store import Store\n",
                "kiosk_ui.app": "from service.helpers import x\n"})
    assert rooms.kiosk_chains(g) == ["kiosk_chains: kiosk_ui.app -> service.helpers",
                                     "kiosk_chains: kiosk_ui.app -> service.helpers -> service.store.store"]


def test_relative_imports_are_resolved() -> None:
    """``from ..store import store`` in ``service.sync.x`` is an edge to ``service.store.store``."""
    g = _graph({"service.sync.x": "from ..store import store\n", "service.sync": "from . import wire\n"})
    assert ("service.store.store", 1) in g.modules["service.sync.x"].imports
    assert ("service.sync.wire", 1) in g.modules["service.sync"].imports


def test_room_map_reports_cycles_and_chains() -> None:
    """The map counts a cycle once and finds the kiosk → outbox chain."""
    g = _graph({"kiosk_ui.blueprints.a": "from kiosk_ui.app import x\n",
                "kiosk_ui.app": "from kiosk_ui.blueprints import a\nfrom service.usecases.digitize import d\n",
                "service.store.store": "import sqlite3\nSQL = 'INSERT INTO outbox(x) VALUES (1)'\n"})
    text = rooms.room_map(g)
    assert "import cycles: 1 (largest 2 modules)" in text
    assert ("kiosk page -> outbox row, shortest (4 modules): kiosk_ui.blueprints.a -> kiosk_ui.app -> "
            "service.usecases.digitize -> service.store.store") in text


if __name__ == "__main__":  # python -m tests.test_architecture [ROOT]
    from pathlib import Path

    print(rooms.room_map(rooms.load_graph(Path(sys.argv[1]) if len(sys.argv) > 1 else rooms.ROOT)))
