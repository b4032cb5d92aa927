"""The models manifest: where each ONNX model comes from, and its SHA-256 checked at start-up.

Models ship inside pinned PyPI wheels (nothing is downloaded at run time). ``models/manifest.json``
names, for each model, the source package and version, the file's path inside the package, its
SHA-256, licence, input/output shapes and (for recognizers) the vocabulary file.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from service.domain.errors import OcrError

DEFAULT_MANIFEST = Path(__file__).resolve().parents[2] / "models" / "manifest.json"


@dataclass(frozen=True, slots=True)
class ModelFile:
    """One verified file: where it is, which package provides it and its expected digest."""

    path: Path
    package: str
    version: str
    sha256: str
    remedy: str


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """A manifest entry resolved to files on disk."""

    name: str
    role: str
    license: str
    model: ModelFile
    vocabulary: ModelFile | None
    entry: dict[str, Any]


def load_manifest(path: Path | None = None) -> dict[str, Any]:
    """Parse the manifest JSON; OcrError naming the file if it is missing or malformed."""
    path = path or DEFAULT_MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise OcrError(f"models manifest {path} not found",
                       remedy="restore models/manifest.json from the repository") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise OcrError(f"models manifest {path} cannot be read: {exc}",
                       remedy="restore models/manifest.json from the repository") from exc
    if not isinstance(data, dict) or not isinstance(data.get("models"), dict):
        raise OcrError(f"models manifest {path} has no 'models' table", remedy="restore models/manifest.json")
    return data


def _package_file(entry: dict[str, Any], what: str, folder: Path) -> ModelFile:
    if "file" in entry:  # a model stored in models/ (e.g. derived by service.ocr.quantize)
        try:
            return ModelFile(folder / str(entry["file"]), "", "", str(entry["sha256"]).lower(),
                             str(entry.get("rebuild", "restore the file from the repository")))
        except KeyError as exc:
            raise OcrError(f"manifest entry for {what} lacks {exc}", remedy="restore models/manifest.json") from exc
    try:
        package, version, rel, digest = entry["package"], entry["version"], entry["path"], entry["sha256"]
    except KeyError as exc:
        raise OcrError(f"manifest entry for {what} lacks {exc}", remedy="restore models/manifest.json") from exc
    try:
        dist = metadata.distribution(package)
    except metadata.PackageNotFoundError as exc:
        raise OcrError(f"{what}: package {package} is not installed",
                       remedy=f"pip install {package}=={version} (pinned in requirements.lock)") from exc
    if dist.version != version:
        raise OcrError(f"{what}: package {package} is {dist.version}, the manifest pins {version}",
                       remedy=f"pip install {package}=={version}, or update models/manifest.json after "
                              "re-measuring accuracy")
    return ModelFile(Path(str(dist.locate_file(rel))), package, version, str(digest).lower(),
                     f"reinstall it: pip install --force-reinstall {package}=={version}")


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def verify(file: ModelFile, what: str) -> None:
    """OcrError with a remedy if ``file`` is missing or its SHA-256 differs from the manifest."""
    if not file.path.is_file():
        raise OcrError(f"{what}: model file {file.path} is missing", remedy=file.remedy)
    actual = sha256_of(file.path)
    if actual != file.sha256:
        raise OcrError(f"{what}: {file.path.name} has SHA-256 {actual[:16]}…, the manifest expects "
                       f"{file.sha256[:16]}… (corrupted or replaced)", remedy=file.remedy)


def resolve(name: str, manifest: Path | None = None, *, check: bool = True) -> ModelSpec:
    """Resolve manifest entry ``name`` to files on disk, verifying their hashes when ``check``."""
    path = manifest or DEFAULT_MANIFEST
    data = load_manifest(path)
    entry = data["models"].get(name)
    if not isinstance(entry, dict):
        raise OcrError(f"model {name!r} is not in the models manifest",
                       remedy=f"use one of {', '.join(sorted(data['models']))} in the ocr config")
    model = _package_file(entry, name, path.parent)
    vocab = _package_file(entry["vocabulary"], f"{name} vocabulary", path.parent) if "vocabulary" in entry else None
    if check:
        verify(model, name)
        if vocab is not None:
            verify(vocab, f"{name} vocabulary")
    return ModelSpec(name, str(entry.get("role", "")), str(entry.get("license", "")), model, vocab, entry)
