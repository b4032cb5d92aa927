"""Neutral hook points: the code says where it is, plugins decide what happens there.

Code calls :func:`point` with a name (``"captured"``, ``"store.add_document.before_commit"``);
unless a plugin is installed that does nothing. A plugin is a module named in ``SOHOA_PLUGINS``
(comma-separated import paths, loaded on the first hook point) that defines
``sohoa_hook(name: str) -> None``; or code appends a callable to :data:`HOOKS` itself. The crash
tests install one (``tests/support/crashpoint.py``) that pauses the process at a chosen point so
the test can SIGKILL it exactly there, the way OCRmyPDF lets plugins hook its pipeline. No fault
injection lives in the product: it only names its points.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable

from service.domain.errors import ConfigError

#: Environment variable naming the plugin modules to load.
PLUGINS_ENV = "SOHOA_PLUGINS"
#: Callables run at every hook point, in order, with the point's name.
HOOKS: list[Callable[[str], None]] = []
_loaded = False


def load_plugins() -> None:
    """Import the modules named in ``SOHOA_PLUGINS`` once and register their ``sohoa_hook``."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    for name in filter(None, (n.strip() for n in os.environ.get(PLUGINS_ENV, "").split(","))):
        try:
            module = importlib.import_module(name)
        except ImportError as exc:
            raise ConfigError(f"plugin {name!r} named in {PLUGINS_ENV} cannot be imported ({exc})",
                              remedy=f"unset {PLUGINS_ENV} or fix the module path") from exc
        hook = getattr(module, "sohoa_hook", None)
        if not callable(hook):
            raise ConfigError(f"plugin {name!r} named in {PLUGINS_ENV} has no sohoa_hook(name) function",
                              remedy=f"unset {PLUGINS_ENV} or define sohoa_hook in the module")
        HOOKS.append(hook)


def point(name: str) -> None:
    """A named hook point: run every installed hook with ``name`` (nothing when none is installed)."""
    load_plugins()
    for hook in tuple(HOOKS):
        hook(name)
