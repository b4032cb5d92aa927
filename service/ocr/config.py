"""Configuration of the ocr stage."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field

from service.configbase import StrictModel


class OcrConfig(StrictModel):
    """Settings for ocr (embedded defaults work out of the box).

    Models come from ``models/manifest.json`` (pinned wheels, SHA-256 verified at start-up).
    """

    manifest: Path | None = Field(default=None, description="models manifest; default: the repository's models/")
    detector: str = Field(default="det-ppocrv4-int8",
                          description="manifest name of the text-line detector (det-ppocrv4: float32 original)")
    recognizer: str = Field(default="rec-fastctc",
                            description="manifest name of the line recognizer read first (the small FastCtc; "
                                        "rec-asternet-int8 / rec-asternet: AsterNet int8 / float32)")
    fallback_recognizer: str | None = Field(
        default="rec-asternet-int8",
        description="cascade: manifest name of the recognizer that re-reads lines the first one is unsure of "
                    "(None: no cascade, the first recognizer's reading stands)")
    fallback_below: float = Field(default=0.5, ge=0, le=1,
                                  description="cascade: a line whose least sure character is below this "
                                              "probability is re-read by the fallback recognizer (1.0: every line)")
    fallback_dropped_above: float = Field(
        default=1.0, ge=0, le=1,
        description="cascade: a line is also re-read when a character the first recognizer left out reached "
                    "this probability (a likely dropped character; 1.0: off)")
    fallback_header_below: float = Field(
        default=0.98, ge=0, le=1,
        description="cascade: lines in the top third of a page (agency, Số, date, type and summary: the fields "
                    "extraction reads) are re-read when their least sure character is below this, stricter than "
                    "fallback_below (1.0: always; 0: like any other line)")
    fallback_header_dropped_above: float = Field(
        default=0.05, ge=0, le=1,
        description="cascade: lines in the top third of a page are also re-read when a character the first "
                    "recognizer left out reached this probability (1.0: off)")
    fallback_header_spelling: bool = Field(
        default=True,
        description="cascade: lines in the top third of a page are also re-read when an upper-case word cannot "
                    "be a Vietnamese syllable (\"TNH\" for TỈNH: letters dropped), and a re-read with fewer such "
                    "words is kept whatever the confidence (False: off)")
    fallback_keeps: Literal["surer", "fallback"] = Field(
        default="surer",
        description="cascade: which reading a re-read line keeps (\"surer\": the fallback's only where its "
                    "characters are at least as sure on average as the first reading's, so a confident first "
                    "reading is not replaced by a doubtful re-read; \"fallback\": always the fallback's)")
    fallback_squeeze: Annotated[float, Field(ge=0.4, le=1.25)] | Literal["auto"] | None = Field(
        default="auto",
        description="cascade: horizontal scale of the lines the fallback re-reads (\"auto\": the model's own "
                    "where the CPU has int8 dot-product instructions (VNNI, Arm dotprod), else 1.0, unsqueezed: "
                    "without them the squeezed int8 model loses accuracy; None: the model's own, from the manifest)")
    threads: int = Field(default=1, ge=1, le=16, description="onnxruntime intra-op threads per model")
    det_long_side: int = Field(default=800, ge=320, le=4096, description="detector input long side (pixels)")
    det_threshold: float = Field(default=0.3, gt=0, lt=1, description="text probability that counts as text")
    box_threshold: float = Field(default=0.5, gt=0, lt=1, description="mean probability a line box must reach")
    rec_max_width: int = Field(default=960, ge=128, le=1024,
                               description="widest recognizer input (AsterNet fails above 1024 at 32 px)")
    rec_squeeze: float | None = Field(default=None, ge=0.4, le=1.25,
                                      description="horizontal scale of long line crops after resizing to 32 px "
                                                  "(None: the model's own, from the manifest; speed/accuracy)")
    rec_short_squeeze: float | None = Field(default=None, ge=0.4, le=1.25,
                                            description="horizontal scale of short lines (≤ 520 px at 32 px "
                                                        "high: header, Số, dates, titles; None: the model's own)")
    max_pixels: int = Field(default=80_000_000, ge=1_000_000,
                            description="largest image accepted (pixels); bigger ones are refused as a bomb")
    lexicon: bool = Field(default=True,
                          description="set right words the Vietnamese word-pair lexicon is sure of (a lost space, "
                                      "O for 0 beside digits, tone marks and c/e in lower-case words); False: the "
                                      "recognizers' text as read")
    min_confidence: float = Field(default=0.0, ge=0, le=1, description="lines below this confidence are dropped")
