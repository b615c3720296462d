"""The QR code of the chip ID card (CCCD): parse it, keep only a keyed hash of the ID number.

Format (CENTER.md): ``id12|cmnd9|full name|ddmmyyyy birth|Nam/Nữ|address|ddmmyyyy issued`` — at least
7 fields, the old CMND field may be empty, newer cards add trailing empty fields. The raw text is
never stored or logged.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass

from ..exceptions import InvalidField

__all__ = ["CitizenCard", "parse_cccd", "person_hash", "age_on"]


@dataclass(frozen=True)
class CitizenCard:
    id_number: str
    full_name: str
    birth_date: dt.date
    sex: str


def _date(text: str, what: str) -> dt.date:
    try:
        return dt.datetime.strptime(text.strip(), "%d%m%Y").date()
    except ValueError:
        raise InvalidField(f"Mã QR CCCD không hợp lệ: {what} '{text}' không phải ngày ddmmyyyy. "
                           f"/ CCCD QR: {what} is not a ddmmyyyy date.", code="invalid_cccd") from None


def parse_cccd(text: str) -> CitizenCard:
    """Parse the QR text; raises InvalidField (422, ``invalid_cccd``) naming what is wrong."""
    fields = text.strip().split("|")
    if len(fields) < 7:
        raise InvalidField(f"Mã QR CCCD không hợp lệ: cần ít nhất 7 trường, có {len(fields)}. "
                           f"/ CCCD QR needs at least 7 '|'-separated fields, got {len(fields)}.",
                           code="invalid_cccd")
    id_number = fields[0].strip()
    if not (id_number.isdigit() and len(id_number) == 12):
        raise InvalidField("Mã QR CCCD không hợp lệ: số CCCD phải có 12 chữ số. "
                           "/ CCCD QR: the ID number must be 12 digits.", code="invalid_cccd")
    return CitizenCard(id_number=id_number, full_name=fields[2].strip(),
                       birth_date=_date(fields[3], "ngày sinh"), sex=fields[4].strip())


def person_hash(secret: bytes, id_number: str) -> str:
    """A keyed hash of the ID number (HMAC-SHA256, hex, shortened): links tickets, reveals nothing."""
    return hmac.new(secret, id_number.encode(), hashlib.sha256).hexdigest()[:32]


def age_on(birth: dt.date, day: dt.date) -> int:
    """Whole years of age on ``day``."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))
