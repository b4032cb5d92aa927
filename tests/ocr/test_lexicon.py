"""The OCR's lexicon text step: what it sets right, what it must leave alone, and how it is built."""

from __future__ import annotations

import json
from pathlib import Path

from service.ocr.lexicon import Lexicon, correct_lines
from service.ocr.train.lexicon import corpus_texts, count, main, write


def test_tone_marks_are_set_right_by_the_neighbouring_words() -> None:
    texts, fixes = correct_lines(["HỌI ĐỒNG NHÂN DÂN TỈNH", "áp dụng quy định của điểu ước quốc tế"])
    assert texts == ["HỘI ĐỒNG NHÂN DÂN TỈNH", "áp dụng quy định của điều ước quốc tế"]
    assert fixes == 2


def test_the_ocr_step_leaves_upper_case_names_as_read_but_still_mends_spaces_and_digits() -> None:
    lines = ["CỤC QUẢN LÝ DƯỢC", "HỌI ĐỒNG NHÂN DÂN", "SỐ 103-SL/L.OO5 THƯTÍN", "của điểu ước"]
    texts, _ = correct_lines(lines, upper=False)
    assert texts == ["CỤC QUẢN LÝ DƯỢC", "HỌI ĐỒNG NHÂN DÂN", "SỐ 103-SL/L.005 THƯ TÍN", "của điều ước"]


def test_the_likelier_word_between_its_two_neighbours_wins() -> None:
    # neither "hướng dân" nor "dẫn một" was ever seen; between the two, "dẫn" is still far likelier
    assert correct_lines(["Hướng dân một số nội dung", "có vai trò thúc đắy sự phát triển"], upper=False) == (
        ["Hướng dẫn một số nội dung", "có vai trò thúc đẩy sự phát triển"], 2)


def test_a_word_is_kept_unless_a_variant_is_much_likelier() -> None:
    # "hỗ trợ từ" is common, so TỪ after TRỢ stays, though TƯ PHÁP is likelier after it: not by enough
    assert correct_lines(["TRỢ TỪ PHÁP"]) == (["TRỢ TỪ PHÁP"], 0)
    # a common word with one neighbour to go by stays (the variant pairs better only with that one)
    for text in ("nộp tiền thuế, tiền phạt", "vận động viên nghiệp dư và"):
        assert correct_lines([text], upper=False) == ([text], 0)
    # punctuation breaks the pair: "vật," does not vouch for the word after it
    assert correct_lines(["đồ vật, trẻ em"]) == (["đồ vật, trẻ em"], 0)


def test_a_word_wrapped_onto_its_own_line_is_read_with_the_line_before() -> None:
    texts, _ = correct_lines(["Về việc công bố danh mục theo Luật trẻ", "cm"])
    assert texts == ["Về việc công bố danh mục theo Luật trẻ", "em"]


def test_a_lost_space_and_letter_o_among_digits() -> None:
    texts, _ = correct_lines(["LUẬT SỐ 103-SL/L.OO5, THƯTÍN CỦA NHÂN DÂN", "TRỢ TƯPHÁP", "H7O.52-276629"])
    assert texts == ["LUẬT SỐ 103-SL/L.005, THƯ TÍN CỦA NHÂN DÂN", "TRỢ TƯ PHÁP", "H70.52-276629"]


def test_names_units_codes_and_correct_text_are_left_alone() -> None:
    lines = ["Họ và tên: Nguyễn Thị Hoa", "Chiều dài 10 cm;", "Số: 15/2024/QĐ-UBND", "BỘ GIÁO DỤC VÀ ĐÀO TẠO",
             "Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015;", "Điều 1. Phạm vi điều chỉnh",
             "Mã hồ sơ H41.41-618835-7363, ĐẮK LẮK, Kon Tum"]
    assert correct_lines(lines) == (lines, 0)


def test_the_shipped_lexicon_knows_common_legal_words() -> None:
    lex = Lexicon.load()
    assert lex.pair("tư", "pháp") > 100
    assert "tư" in lex.variants("từ")
    assert lex.pair("từ", "pháp") == 0


def test_build_leaves_out_the_heldout_rows_and_is_deterministic(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus.jsonl"
    rows = [{"id": "a", "title": "LUẬT TƯ PHÁP", "text": "tư pháp, tư pháp; 12 tư pháp"},
            {"id": "b", "title": "bí mật", "text": "viễn thông viễn thông"},
            {"id": "c", "title": "", "text": "tư pháp"}]
    corpus.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    heldout = tmp_path / "heldout.jsonl"
    heldout.write_text(json.dumps({"row": 1, "id": "b"}) + "\n", encoding="utf-8")
    uni, bi = count(corpus_texts(corpus, heldout))
    assert "viễn" not in uni and bi[("tư", "pháp")] == 5 and uni["luật"] == 1
    out1, out2 = tmp_path / "one.tsv", tmp_path / "two.tsv"
    write(uni, bi, out1)
    assert main(["--corpus", str(corpus), "--heldout", str(heldout), "--out", str(out2)]) == 0
    assert out1.read_bytes() == out2.read_bytes()
    assert "2\ttư pháp\t5" in out1.read_text(encoding="utf-8").splitlines()
    assert Lexicon.load(out1).pair("luật", "tư") == 0  # seen once: below the pair threshold


def test_build_without_the_corpus_says_so(tmp_path: Path) -> None:
    assert main(["--corpus", str(tmp_path / "missing.jsonl"), "--out", str(tmp_path / "x.tsv")]) == 2
    assert not (tmp_path / "x.tsv").exists()
