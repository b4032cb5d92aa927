"""The document-type catalogue: administrative types (NĐ 30/2020 Phụ lục III) and specialised papers.

Shipped as ``service/extract/data/document_types.json``; ``extract.catalog_path`` replaces it.
Each entry: ``code`` (a well-formed document type code), ``name``, ``family``
(``administrative`` | ``specialised``), ``headings`` (the upper-case titles printed on the paper),
optional ``abbreviation`` (Phụ lục III) and ``category`` (Art. 7 class).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from difflib import SequenceMatcher
from importlib import resources
from pathlib import Path
from typing import Any

from service.domain.categories import DigitizationCategory, parse_category
from service.domain.codes import validate_document_type_code
from service.domain.errors import ConfigError, ValidationError
from service.domain.text import fold, nfc

PACKAGED = "document_types.json"
MAX_CATALOG_BYTES = 2_000_000


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    """One known document type."""

    code: str
    name: str
    family: str
    headings: tuple[str, ...]
    abbreviation: str | None = None
    category: DigitizationCategory | None = None


@dataclass(frozen=True, slots=True)
class HeadingMatch:
    """A catalogue entry recognised in a line, and the match score (0–1)."""

    entry: CatalogEntry
    score: float
    heading: str


def _entry(raw: Any, where: str) -> CatalogEntry:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: each type must be an object", remedy="see the packaged document_types.json")
    try:
        code = validate_document_type_code(str(raw["code"]), field_name="code")
        name = nfc(str(raw["name"]))
        family = str(raw["family"])
        headings = tuple(nfc(str(h)) for h in raw["headings"])
    except KeyError as exc:
        raise ConfigError(f"{where}: missing key {exc}",
                          remedy="every type needs code, name, family, headings") from exc
    except (TypeError, ValidationError) as exc:
        raise ConfigError(f"{where}: {exc}", remedy="fix this entry of the catalogue") from exc
    if family not in ("administrative", "specialised") or not name or not headings:
        raise ConfigError(f"{where}: family must be administrative|specialised and name/headings non-empty",
                          remedy="fix this entry of the catalogue")
    category = None
    if raw.get("category"):
        try:
            category = parse_category(str(raw["category"]))
        except ValidationError as exc:
            raise ConfigError(f"{where}: {exc.message}", remedy=exc.remedy) from exc
    abbr = raw.get("abbreviation")
    return CatalogEntry(code, name, family, headings, nfc(str(abbr)) if abbr else None, category)


_CACHE: dict[tuple[str, int], Catalog] = {}


class Catalog:
    """Look-ups over the document types: by code, by type abbreviation, by printed heading."""

    def __init__(self, entries: list[CatalogEntry]) -> None:
        """Index ``entries``; duplicate codes are a ConfigError."""
        self.entries = tuple(entries)
        self._by_code: dict[str, CatalogEntry] = {}
        for e in entries:
            if e.code in self._by_code:
                raise ConfigError(f"document type catalogue: code {e.code} appears twice", remedy="make codes unique")
            self._by_code[e.code] = e
        self._by_abbr = {e.abbreviation: e for e in entries if e.abbreviation}
        self._headings = [(fold(h), h, e) for e in entries for h in e.headings]

    @classmethod
    def load(cls, path: Path | None = None) -> Catalog:
        """The packaged catalogue, or the JSON file at ``path`` (ConfigError when unreadable/invalid).

        Loaded catalogues are cached per path and file modification time.
        """
        try:
            stamp = path.stat().st_mtime_ns if path is not None else 0
        except OSError:
            stamp = -1
        key = (str(path) if path is not None else "", stamp)
        cached = _CACHE.get(key)
        if cached is None:
            cached = cls._read(path)
            _CACHE[key] = cached
        return cached

    @classmethod
    def _read(cls, path: Path | None) -> Catalog:
        where = str(path) if path else PACKAGED
        try:
            if path is None:
                text = (resources.files("service.extract") / "data" / PACKAGED).read_text(encoding="utf-8")
            else:
                if path.stat().st_size > MAX_CATALOG_BYTES:
                    raise ConfigError(f"{where}: catalogue larger than {MAX_CATALOG_BYTES} bytes",
                                      remedy="check extract.catalog_path points at the catalogue")
                text = path.read_text(encoding="utf-8")
            data = json.loads(text)
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ConfigError(f"{where}: cannot read the document type catalogue ({exc})",
                              remedy="fix extract.catalog_path or the JSON syntax") from exc
        if not isinstance(data, dict) or not isinstance(data.get("types"), list):
            raise ConfigError(f"{where}: expected an object with a 'types' list", remedy="see the packaged catalogue")
        return cls([_entry(raw, f"{where}: types[{i}]") for i, raw in enumerate(data["types"])])

    def by_code(self, code: str) -> CatalogEntry | None:
        """The entry with ``code``."""
        return self._by_code.get(code)

    def by_abbreviation(self, abbr: str | None) -> CatalogEntry | None:
        """The administrative type of a Phụ lục III abbreviation (``QĐ`` -> Quyết định)."""
        return self._by_abbr.get(abbr) if abbr else None

    def match_heading(self, text: str, *, min_score: float = 0.8) -> HeadingMatch | None:
        """The best catalogue heading at the start of ``text`` (accent/case-insensitive, OCR-tolerant)."""
        line = fold(text).strip(" .:-")
        if not line:
            return None
        best: HeadingMatch | None = None
        best_key = (0.0, 0)
        for folded, heading, entry in self._headings:
            if line == folded:
                score = 1.0
            elif line.startswith(folded) and not line[len(folded)].isalnum():
                score = 0.97
            else:
                score = SequenceMatcher(None, line, folded, autojunk=False).ratio()
                if len(folded) >= 8 and len(line) > len(folded):
                    head = line[: len(folded)]
                    score = max(score, 0.95 * SequenceMatcher(None, head, folded, autojunk=False).ratio())
            key = (round(score, 3), len(folded))
            if score >= min_score and key > best_key:
                best, best_key = HeadingMatch(entry, score, heading), key
        return best
