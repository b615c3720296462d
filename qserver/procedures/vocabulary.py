"""The words citizens use that are not the words of the procedure names: synonyms and filler.

A query is searched as typed and, when one of these phrases occurs in it, also with the phrase
rewritten (the better of the two counts), so "bằng lái" finds "giấy phép lái xe" while a name that
really says "giấy phép kinh doanh" still matches "giấy phép kinh doanh". Written with diacritics for
people; folded once at import.
"""

from __future__ import annotations

from .fold import tokens

__all__ = ["FILLER", "SYNONYMS", "rewrite"]

_SYNONYMS_VI = {
    "bằng lái xe": "giấy phép lái xe",
    "bằng lái": "giấy phép lái xe",
    "gplx": "giấy phép lái xe",
    "gpxd": "giấy phép xây dựng",
    "xin phép xây nhà": "giấy phép xây dựng nhà ở",
    "xây nhà": "giấy phép xây dựng nhà ở",
    "lltp": "lý lịch tư pháp",
    "sổ đỏ": "giấy chứng nhận quyền sử dụng đất",
    "sổ hồng": "giấy chứng nhận quyền sử dụng đất quyền sở hữu nhà ở",
    "giấy phép kinh doanh": "đăng ký doanh nghiệp",
    "mở công ty": "đăng ký thành lập doanh nghiệp",
    "thành lập công ty": "thành lập doanh nghiệp",
    "bằng tốt nghiệp": "văn bằng tốt nghiệp",
    "bằng cấp": "văn bằng",
    "cchn": "chứng chỉ hành nghề",
    "gp": "giấy phép",
    "gcn": "giấy chứng nhận",
}

#: Words that say what the citizen wants to do rather than which procedure ("làm lý lịch tư pháp").
#: They count when a name has them and cost nothing when it does not: folding makes "làm" and
#: "lâm" (lâm nghiệp) one word, so they cannot simply be dropped.
_FILLER_VI = ("làm", "xin", "muốn", "thủ tục", "tôi", "giúp", "cách")

SYNONYMS: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = tuple(sorted(
    ((tuple(tokens(k)), tuple(tokens(v))) for k, v in _SYNONYMS_VI.items() if tokens(k) != tokens(v)),
    key=lambda pair: -len(pair[0]),  # longest phrase first: "bang lai xe" before "bang lai"
))
FILLER: frozenset[str] = frozenset(word for phrase in _FILLER_VI for word in tokens(phrase))


def rewrite(words: list[str]) -> list[str] | None:
    """``words`` with every known colloquial phrase replaced, or None when none occurs."""
    changed = False
    for phrase, by in SYNONYMS:
        n, start, out = len(phrase), 0, []
        while start < len(words):
            if tuple(words[start:start + n]) == phrase:
                out.extend(by)
                start += n
                changed = True
            else:
                out.append(words[start])
                start += 1
        words = out
    return words if changed else None
