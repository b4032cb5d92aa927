"""Vietnamese-first translations: ``messages.json`` maps a key to its ``vi`` and ``en`` text."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources

LANGUAGES: tuple[str, ...] = ("vi", "en")


@lru_cache(maxsize=1)
def catalogue() -> dict[str, dict[str, str]]:
    """All messages, loaded once from the package data."""
    text = resources.files("kiosk_ui").joinpath("data/messages.json").read_text(encoding="utf-8")
    data: dict[str, dict[str, str]] = json.loads(text)
    return data


def translate(key: str, lang: str, **params: object) -> str:
    """The message ``key`` in ``lang`` (Vietnamese when missing), with ``{name}`` params filled."""
    entry = catalogue().get(key)
    if entry is None:
        return key
    text = entry.get(lang) or entry["vi"]
    return text.format_map(_Params(params)) if params else text


class _Params(dict[str, object]):
    """Format parameters; a missing one renders empty instead of failing the page."""

    def __missing__(self, key: str) -> str:
        return ""


def missing_keys() -> list[str]:
    """Keys that lack one of the languages (a test keeps this empty)."""
    return sorted(k for k, v in catalogue().items() if any(not v.get(lang) for lang in LANGUAGES))


@lru_cache(maxsize=1)
def _error_patterns() -> tuple[tuple[re.Pattern[str], str], ...]:
    """The ``errtext.*`` entries that carry a ``match`` pattern for an English domain/driver reason."""
    return tuple((re.compile(v["match"]), k) for k, v in catalogue().items() if v.get("match"))


def error_text(reason: str, lang: str) -> str | None:
    """The catalogue's wording of an English domain or driver reason (None when no entry matches);
    the pattern's named groups fill the message's ``{params}``."""
    text = " ".join(reason.split())
    for pattern, key in _error_patterns():
        m = pattern.fullmatch(text)
        if m is not None:
            return translate(key, lang, **m.groupdict())
    return None
