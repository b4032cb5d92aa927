"""Shape limits for untrusted structured text (JSON) checked before a recursive parser sees it.

``json.loads`` recurses once per nesting level: ``[`` × 100 000 raises RecursionError (a crash, an
HTTP 500). :func:`json_depth_problem` measures the depth with a flat scan that skips strings.
Pure: no I/O.
"""

from __future__ import annotations

#: Deepest nesting any JSON document of ours needs (catalogue, telemetry, OCR results: under 10).
JSON_MAX_DEPTH = 32


def json_depth_problem(text: str, *, max_depth: int = JSON_MAX_DEPTH) -> str | None:
    """Why ``text`` is refused (nested deeper than ``max_depth``), or None; strings are skipped."""
    depth = 0
    in_string = escaped = False
    line = 1
    for ch in text:
        if ch == "\n":
            line += 1
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
            continue
        if ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > max_depth:
                return f"line {line}: nested more than {max_depth} levels deep"
        elif ch in "]}":
            depth -= 1
    return None
