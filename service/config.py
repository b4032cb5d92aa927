"""The service configuration: one YAML file, validated by pydantic, errors point at the line."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import Field
from pydantic import ValidationError as PydanticValidationError

from firmware.config import DevicesConfig
from service.capture.config import CaptureConfig
from service.configbase import DuplicateKey, StrictModel, YamlLimitError, load_yaml
from service.domain.config import CodesConfig
from service.domain.errors import ConfigError
from service.extract.config import ExtractConfig
from service.ocr.config import OcrConfig
from service.pdf.config import PdfConfig
from service.reports.config import ReportsConfig
from service.signing.config import SigningConfig
from service.store.config import StoreConfig
from service.sync.config import SyncConfig


class DeviceIdentity(StrictModel):
    """Who this box is: its id (also its MQTT client id / certificate CN) and its province."""

    device_id: str = Field(default="dev-box-0001", pattern=r"^[a-z0-9][a-z0-9-]{2,62}$")
    province_code: str = Field(default="70", pattern=r"^[0-9]{2}$")
    office_name: str = "UBND xã Thử Nghiệm"
    #: The office's e-ID (mã định danh điện tử), the first part of its dossier codes ``<unit>-YYMMDD-XXXX``.
    unit_code: str = Field(default="000.00.70.H99", pattern=r"^[0-9A-Z.]{3,40}$")


class Config(StrictModel):
    """Root of the configuration file; every section has working embedded defaults."""

    identity: DeviceIdentity = DeviceIdentity()
    codes: CodesConfig = CodesConfig()
    capture: CaptureConfig = CaptureConfig()
    ocr: OcrConfig = OcrConfig()
    extract: ExtractConfig = ExtractConfig()
    pdf: PdfConfig = PdfConfig()
    signing: SigningConfig = SigningConfig()
    store: StoreConfig = StoreConfig()
    sync: SyncConfig = SyncConfig()
    reports: ReportsConfig = ReportsConfig()
    devices: DevicesConfig = DevicesConfig()


def _line_of(node: yaml.Node | None, loc: tuple[int | str, ...]) -> int | None:
    """1-based line of the YAML node addressed by a pydantic error location."""
    line = node.start_mark.line + 1 if node is not None else None
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            nxt = next((v for k, v in node.value if getattr(k, "value", None) == key), None)
            tag = next((v for k, v in node.value if getattr(k, "value", None) == "type"), None)
            if nxt is None and tag is not None and getattr(tag, "value", None) == key:
                continue  # a discriminated union's tag (e.g. devices.camera.opencv.source)
            if nxt is None:
                key_node = next((k for k, _ in node.value if getattr(k, "value", None) == key), None)
                return key_node.start_mark.line + 1 if key_node is not None else line
            node = nxt
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
        else:
            break
        line = node.start_mark.line + 1
    return line


def parse_config(text: str, source: str = "<config>") -> Config:
    """Validate YAML text into a :class:`Config`; errors name the file, line and key."""
    try:
        node, data = load_yaml(text)
    except DuplicateKey as exc:
        raise ConfigError(f"{source}:{exc.line}: {exc}",
                          remedy="keep one of the two lines (see docs/configuration.md)") from exc
    except YamlLimitError as exc:
        where = f"{source}:{exc.line}" if exc.line else source
        raise ConfigError(f"{where}: the configuration is {exc.message}",
                          remedy="a configuration is a few sections deep; see docs/configuration.md") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        raise ConfigError(f"{where}: not valid YAML ({getattr(exc, 'problem', exc)})",
                          remedy="fix the YAML syntax at that line") from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{source}:1: the configuration must be a mapping of sections",
                          remedy="start the file with a section name such as 'capture:'")
    try:
        return Config.model_validate(data)
    except PydanticValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            line = _line_of(node, loc)
            dotted = ".".join(str(p) for p in loc) or "(root)"
            problems.append(f"{source}:{line or '?'}: {dotted}: {err['msg']}")
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(problems),
                          remedy="correct the keys listed above (see docs/configuration.md)") from exc


def load_config(path: Path) -> Config:
    """Load ``path`` if it exists, else the embedded defaults."""
    if not path.exists():
        return Config()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read ({exc})",
                          remedy="check the file's permissions and encoding (UTF-8)") from exc
    return parse_config(text, str(path))
