"""Vietnamese syllable shape, and the cascade's use of it on header lines."""

from __future__ import annotations

import pytest

from service.ocr.config import OcrConfig
from service.ocr.engine import keeps_first, unsure
from service.ocr.recognizer import Reading
from service.ocr.spelling import is_syllable, unspelled

SPELLING = OcrConfig(fallback_header_spelling=True)


@pytest.mark.parametrize("word", ["TỈNH", "tỉnh", "NGHIÊNG", "QUYẾT", "GIẢI", "ỦY", "Y", "ĐẮK", "KHUYÊN",
                                  "NGƯỜI", "ương", "Hà", "THƯỜNG"])
def test_vietnamese_syllables_have_the_shape(word: str) -> None:
    assert is_syllable(word)


@pytest.mark.parametrize("word", ["TNH", "UBND", "HĐND", "V", "NGHN", "TRONGG", "CHNH"])
def test_words_with_letters_dropped_or_abbreviations_do_not(word: str) -> None:
    assert not is_syllable(word)


def test_unspelled_counts_upper_case_words_only() -> None:
    assert unspelled("ỦY BAN NHÂN DÂN TNH KON TUM") == 1
    assert unspelled("Số: 12/QĐ-UBND") == 0  # a code glued by a hyphen or slash is not a word
    assert unspelled("UBND TỈNH QUẢNG NAM") == 1  # an abbreviation standing alone is
    assert unspelled("ban hành kèm theo") == 0


def test_a_sure_header_line_with_a_word_that_cannot_be_a_syllable_is_re_read() -> None:
    sure = Reading("TNH KON TUM", 0.997, weakest=0.99)
    assert unsure(SPELLING, sure, header=True)
    assert not unsure(OcrConfig(fallback_header_spelling=False), sure, header=True)  # the rule off
    assert not unsure(SPELLING, sure, header=False)  # body lines: the header rule only


def test_the_re_read_with_fewer_unspelled_words_is_kept_over_a_surer_first_reading() -> None:
    first = Reading("TNH KON TUM", 0.997, weakest=0.99)
    again = Reading("TỈNH KON TUM", 0.95, weakest=0.8)
    assert not keeps_first(SPELLING, first, again, header=True)
    # never the other way round: a highland name (ĐẮK MAR) is no syllable either, and a surer
    # re-read that reads it whole is kept over a first reading that lost a letter
    assert not keeps_first(SPELLING, Reading("XÃ ĐÁK MA", 0.87), Reading("XÃ ĐẮK MAR", 0.99), header=True)
    assert keeps_first(SPELLING, first, again, header=False)  # body lines: confidence decides
    assert keeps_first(OcrConfig(fallback_header_spelling=False), first, again, header=True)  # off: confidence
