"""A large made-up catalogue for benchmarks and scale tests, grown from the real Cần Thơ sample.

Each generated procedure takes a real one's object ("giấy phép xây dựng ...") under another action
("Gia hạn", "Thu hồi", ...) and a qualifier ("đối với tổ chức", ...), keeping its agency and field,
so the vocabulary and the word statistics look like a province's 2,000-procedure list.
"""

from __future__ import annotations

import random
import re

from .model import Catalogue, Procedure

__all__ = ["ACTIONS", "grow_catalogue"]

ACTIONS = ("Cấp", "Cấp lại", "Cấp đổi", "Cấp bổ sung", "Điều chỉnh", "Gia hạn", "Thu hồi", "Đăng ký",
           "Đăng ký thay đổi", "Xác nhận", "Thẩm định", "Công nhận", "Chấm dứt", "Tiếp nhận", "Thông báo")
QUALIFIERS = ("", "", " đối với tổ chức", " đối với cá nhân", " cho doanh nghiệp có vốn đầu tư nước ngoài",
              " trong trường hợp bị mất, hỏng", " do thay đổi thông tin", " thuộc thẩm quyền cấp tỉnh",
              " thuộc thẩm quyền cấp xã", " cho hộ kinh doanh", " tại khu công nghiệp", " (thực hiện trực tuyến)")
_LEADING_ACTION = re.compile(r"^(?:Thủ tục\s+)?(?:" + "|".join(sorted(map(re.escape, ACTIONS), key=len, reverse=True))
                             + r"|Cấp mới|Cho phép|Giải quyết|Cung cấp|Đổi|Phê duyệt|Tặng)\s+", re.IGNORECASE)


def _object_of(name: str) -> str:
    """The name without its leading action: "Cấp lại giấy phép lái xe" -> "giấy phép lái xe"."""
    rest = _LEADING_ACTION.sub("", name, count=1)
    return rest[:1].lower() + rest[1:] if rest != name else name[:1].lower() + name[1:]


def grow_catalogue(base: Catalogue, size: int = 2000, *, seed: int = 13) -> Catalogue:
    """``base`` followed by made-up procedures up to ``size`` in all (deterministic for a seed)."""
    rng = random.Random(seed)
    procedures = list(base.procedures[:size])
    names = {p.name for p in procedures}
    attempts = 0
    while len(procedures) < size:
        attempts += 1
        if attempts > size * 50:
            raise ValueError(f"cannot grow {len(base)} procedures to {size} distinct names")
        model = rng.choice(base.procedures)
        name = f"{rng.choice(ACTIONS)} {_object_of(model.name)}{rng.choice(QUALIFIERS)}"
        if name in names:
            continue
        names.add(name)
        procedures.append(Procedure(
            code=f"SYN.{len(procedures):05d}", name=name, agency=model.agency, field=model.field,
            documents=model.documents, processing_time=model.processing_time, fee=model.fee,
            online=rng.random() < 0.5, note="generated",
        ))
    return Catalogue(base.site, tuple(procedures), f"{base.source} grown to {size}")
