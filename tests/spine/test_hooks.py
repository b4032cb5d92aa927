"""Hook points of ``service.hooks``: plugins named in SOHOA_PLUGINS run there; a bad name is a clear error."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

from service import hooks
from service.domain.errors import ConfigError, ExitCode
from service.paths import get_paths
from service.store import Store

from .test_spine_store import add


@pytest.fixture
def fresh_hooks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Hooks not yet loaded, and a plugin module that records every point it sees."""
    seen: list[str] = []
    plugin = types.ModuleType("sohoa_test_recorder")
    plugin.sohoa_hook = seen.append  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "sohoa_test_recorder", plugin)
    monkeypatch.setattr(hooks, "_loaded", False)
    monkeypatch.setattr(hooks, "HOOKS", [])
    return seen


def test_no_plugin_means_nothing_runs(fresh_hooks: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(hooks.PLUGINS_ENV, raising=False)
    hooks.point("captured")
    assert fresh_hooks == [] and hooks.HOOKS == []


def test_a_plugin_sees_the_store_points_of_a_new_document(fresh_hooks: list[str], tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(hooks.PLUGINS_ENV, "sohoa_test_recorder")
    with Store.open(get_paths(tmp_path / "home")) as store:
        add(store)
    assert fresh_hooks == ["store.add_document.before_commit", "store.add_document.committed"]


@pytest.mark.parametrize("name", ["no_such_module_for_sohoa", "sys"])  # missing; no sohoa_hook
def test_a_bad_plugin_name_is_a_config_error(name: str, fresh_hooks: list[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(hooks.PLUGINS_ENV, name)
    with pytest.raises(ConfigError) as err:
        hooks.point("captured")
    assert err.value.exit_code is ExitCode.CONFIG and hooks.PLUGINS_ENV in str(err.value) and err.value.remedy


def test_digitize_names_its_steps_in_spine_order(fresh_hooks: list[str], sohoa_home: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The points the e2e benchmark times its stages at are reached once each, in the spine's order."""
    from service.capture import RawPage
    from service.usecases.digitize import DigitizeRequest, digitize

    from .helpers import DOC_TYPE, OWNER, page_image

    monkeypatch.setenv(hooks.PLUGINS_ENV, "sohoa_test_recorder")
    digitize(DigitizeRequest(pages=(RawPage(page_image(), "p1"),), document_type_code=DOC_TYPE, owner_id=OWNER))
    assert fresh_hooks == ["quality_checked", "text_read", "captured", "pdf_built", "files_written",
                           "store.add_document.before_commit", "store.add_document.committed"]
