"""Base class of every configuration model: strict, frozen, unknown keys refused."""

from __future__ import annotations

from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    """A pydantic model with ``extra="forbid"`` so typos in config are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


#: Limits on every YAML file the service reads (a configuration is a few kB, a handful of levels deep).
YAML_MAX_BYTES = 1024 * 1024
YAML_MAX_DEPTH = 64
YAML_MAX_ALIASES = 100


class _StrictLoader(yaml.SafeLoader):
    """Safe loader that refuses a key given twice in one mapping (instead of keeping the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        """The mapping, or :class:`DuplicateKey` naming the key and both lines."""
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)  # type: ignore[no-untyped-call]
            line = key_node.start_mark.line + 1
            try:
                if key in seen:
                    raise DuplicateKey(key, line, seen[key])
                seen[key] = line
            except TypeError:
                continue  # unhashable key: the base constructor reports it
        return super().construct_mapping(node, deep=deep)


class DuplicateKey(yaml.YAMLError):
    """A mapping key appears twice (``line`` is the second one, ``first`` the first)."""

    def __init__(self, key: object, line: int, first: int) -> None:
        super().__init__(f"key {key!r} is given twice (lines {first} and {line})")
        self.key, self.line, self.first = key, line, first


class YamlLimitError(yaml.YAMLError):
    """The YAML text is larger, deeper or uses more aliases than any valid file of ours."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message, self.line = message, line


def _check_shape(text: str) -> None:
    """Depth and alias count from the token stream (iterative: no recursion, so no RecursionError)."""
    depth, aliases = 0, 0
    opening = (yaml.BlockMappingStartToken, yaml.BlockSequenceStartToken, yaml.FlowMappingStartToken,
               yaml.FlowSequenceStartToken)
    closing = (yaml.BlockEndToken, yaml.FlowMappingEndToken, yaml.FlowSequenceEndToken)
    for token in yaml.scan(text, Loader=yaml.SafeLoader):
        if isinstance(token, opening):
            depth += 1
            if depth > YAML_MAX_DEPTH:
                raise YamlLimitError(f"nested more than {YAML_MAX_DEPTH} levels deep", token.start_mark.line + 1)
        elif isinstance(token, closing):
            depth -= 1
        elif isinstance(token, yaml.AliasToken):
            aliases += 1
            if aliases > YAML_MAX_ALIASES:
                raise YamlLimitError(f"uses more than {YAML_MAX_ALIASES} aliases", token.start_mark.line + 1)


def load_yaml(text: str) -> tuple[yaml.Node | None, Any]:
    """Parse YAML safely: size, depth and alias limits, duplicate keys refused; returns (node, data).

    Raises :class:`yaml.YAMLError` (:class:`DuplicateKey`, :class:`YamlLimitError` or a syntax error).
    """
    if len(text.encode("utf-8", "surrogatepass")) > YAML_MAX_BYTES:
        raise YamlLimitError(f"larger than {YAML_MAX_BYTES // 1024} KiB")
    _check_shape(text)
    loader = _StrictLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except RecursionError as exc:  # belt and braces: the token check above bounds the depth
        raise YamlLimitError("nested too deep") from exc
    finally:
        loader.dispose()
    return node, data
