"""What a citizen types on a phone, checked: the CCCD number, the mobile number, and whether online numbers
are being given now. Pure functions; refusals are :class:`~qserver.exceptions.InvalidField` (422) or
:class:`~qserver.exceptions.Conflict` (409) with a Vietnamese sentence naming the value.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from config import Site

from ..exceptions import Conflict, InvalidField
from . import hours

__all__ = ["check_id_number", "check_phone", "mask_phone", "online_open", "online_opening"]

#: A Vietnamese mobile number once normalised: 0 + a mobile prefix + 7 digits (Viettel 03x/086/09x,
#: Vinaphone 08x/091/094, MobiFone 07x/089/090/093, Vietnamobile 052/056/058/092, Gmobile 059/099,
#: Itelecom 087, Reddi 055).
MOBILE_RE = re.compile(r"^0(3[2-9]|5[25689]|7[06-9]|8[1-9]|9[0-9])\d{7}$")
_SEPARATORS = re.compile(r"[\s.\-()]")


def check_id_number(value: Any) -> str:
    """The 12 digits of a CCCD number (spaces allowed in between); InvalidField ``invalid_id_number`` else."""
    text = _SEPARATORS.sub("", value) if isinstance(value, str) else ""
    if not (len(text) == 12 and text.isdigit()):
        shown = value if isinstance(value, str) and len(value) <= 40 else type(value).__name__
        raise InvalidField(f"Số CCCD “{shown}” không hợp lệ: số căn cước công dân gồm đúng 12 chữ số. "
                           f"/ A CCCD number is 12 digits, not {shown!r}.", code="invalid_id_number")
    if len(set(text)) == 1:
        raise InvalidField(f"Số CCCD “{text}” không hợp lệ. / {text!r} is not a CCCD number.",
                           code="invalid_id_number")
    return text


def check_phone(value: Any) -> str:
    """A Vietnamese mobile number as ``0xxxxxxxxx`` (``+84 912 345 678``, ``84912345678`` accepted);
    InvalidField ``invalid_phone`` otherwise."""
    text = _SEPARATORS.sub("", value) if isinstance(value, str) else ""
    if text.startswith("+84"):
        text = "0" + text[3:]
    elif text.startswith("84") and len(text) == 11:
        text = "0" + text[2:]
    if not MOBILE_RE.match(text):
        shown = value if isinstance(value, str) and len(value) <= 40 else type(value).__name__
        raise InvalidField(f"Số điện thoại “{shown}” không hợp lệ: cần số di động Việt Nam 10 chữ số, "
                           f"ví dụ 0912 345 678. / {shown!r} is not a Vietnamese mobile number.",
                           code="invalid_phone")
    return text


def mask_phone(phone: str) -> str:
    """``0912345678`` → ``0912•••678`` (what a page may show back)."""
    return phone[:4] + "•••" + phone[-3:] if len(phone) >= 7 else "•••"


def online_open(site: Site, when: dt.datetime) -> bool:
    """True while online numbers are given: during a receiving session, or with ``[online] from`` set,
    from that local hour of a receiving day until its last session ends."""
    if hours.is_open(site, when):
        return True
    start = site.online.start
    if start is None:
        return False
    moment = hours.local(site, when)
    sessions = hours.sessions_of(site, moment.date())
    return bool(sessions) and start <= moment.time() < sessions[-1][1]


def online_opening(site: Site, when: dt.datetime) -> dt.datetime | None:
    """When online numbers are next given after ``when`` (local time), or None within 30 days."""
    moment = hours.local(site, when)
    start = site.online.start
    for offset in range(31):
        day = moment.date() + dt.timedelta(days=offset)
        sessions = hours.sessions_of(site, day)
        if not sessions:
            continue
        first = min(start, sessions[0][0]) if start is not None else sessions[0][0]
        candidates = [dt.datetime.combine(day, first, tzinfo=site.tz)]
        if start is None:  # only while receiving: every session start counts (the afternoon too)
            candidates += [dt.datetime.combine(day, s, tzinfo=site.tz) for s, _e in sessions[1:]]
        for opening in candidates:
            if opening > moment:
                return opening
    return None


def refuse_closed(site: Site, when: dt.datetime) -> Conflict:
    """The 409 ``online_closed`` refusal, saying when online numbers start again."""
    opening = online_opening(site, when)
    text = opening.strftime("%H:%M ngày %d/%m/%Y") if opening else "chưa xác định"
    return Conflict(f"Hiện chưa nhận lấy số trực tuyến. Có thể lấy số từ {text}. / Online numbers are not "
                    f"given now; next from {text}.", code="online_closed",
                    opens_at=opening.isoformat(timespec="minutes") if opening else None)
