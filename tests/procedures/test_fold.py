"""Folding: every Vietnamese letter loses its marks, đ becomes d, case and punctuation go, i/y agree."""

from __future__ import annotations

import unicodedata

from qserver.procedures.fold import fold, sort_key, tokens

# Every Vietnamese vowel with each of the six tones, by base letter, and đ.
VOWELS = {
    "a": "aàáảãạăằắẳẵặâầấẩẫậ", "e": "eèéẻẽẹêềếểễệ", "i": "iìíỉĩị",
    "o": "oòóỏõọôồốổỗộơờớởỡợ", "u": "uùúủũụưừứửữự", "y": "yỳýỷỹỵ", "d": "đ",
}


def test_every_vietnamese_letter_folds_to_its_base_in_both_cases():
    """All 146 letters (73 lower, 73 upper) fold to a, e, i, o, u, y or d."""
    letters = [(base, letter) for base, group in VOWELS.items() for letter in group]
    assert len(letters) == 73
    for base, letter in letters:
        assert fold(letter) == base, letter
        assert fold(letter.upper()) == base, letter.upper()


def test_decomposed_input_folds_like_composed():
    """A keyboard that sends combining marks (NFD) gives the same words as precomposed text."""
    text = "Cấp Phiếu lý lịch tư pháp, Đổi giấy phép lái xe"
    assert fold(unicodedata.normalize("NFD", text)) == fold(text) == \
        "cap phieu li lich tu phap doi giay phep lai xe"


def test_case_punctuation_and_typography_go():
    """Upper case, commas, dashes, curly quotes and non-breaking spaces are not words."""
    assert fold("  SỞ LAO ĐỘNG - THƯƠNG BINH\u00a0VÀ “XÃ HỘI”; (C/O) ") == "so lao dong thuong binh va xa hoi c o"
    assert fold("...") == "" and tokens("— ; ,") == []


def test_final_y_after_a_consonant_is_spelled_i():
    """lý/lí, kỹ/kĩ, quý/quí, mỹ/mĩ fold alike; "y tế", "uy", "yêu", "huyện" keep their y."""
    assert fold("lý kỹ quý mỹ sỹ") == fold("lí kĩ quí mĩ sĩ") == "li ki qui mi si"
    assert fold("y tế uy tín yêu cầu huyện") == "y te uy tin yeu cau huyen"


def test_tokens_keep_order():
    """tokens() gives the folded words in the order typed."""
    assert tokens("pháp tư lịch lý") == ["phap", "tu", "lich", "li"]


def test_sort_key_follows_the_vietnamese_alphabet_then_tones():
    """a < ă < â, d < đ, o < ô < ơ, u < ư; tones order none, huyền, hỏi, ngã, sắc, nặng; case is ignored."""
    words = ["Hợp tác", "hộ tịch", "Hoạt động", "đường", "Dược", "ưu tiên", "Uỷ quyền", "ăn", "Âm", "an",
             "ma", "mạ", "má", "mã", "mả", "mà"]
    assert sorted(words, key=sort_key) == ["an", "ăn", "Âm", "Dược", "đường", "Hoạt động", "hộ tịch", "Hợp tác",
                                          "ma", "mà", "mả", "mã", "má", "mạ", "Uỷ quyền", "ưu tiên"]
