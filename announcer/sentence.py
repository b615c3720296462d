"""The Vietnamese sentence for one call or for several waiting calls merged — pure.

One call uses the site's ``template`` ("Mời công dân có số thứ tự {number} đến quầy số {counter}"),
or ``template_other_floor`` when the counter is not on the announcing floor; ``{floor}`` is then the
counter's floor name. Several waiting calls become one sentence: "Mời số vê bảy đến quầy hai mươi
bốn, số en-nờ mười hai đến quầy ba mươi ba". The ticket number is read per ``number_reading``
(digit by digit, or in words), the counter id always in words ("quầy số ba mươi ba"), letters by
their Vietnamese names, digits inside a floor name in words ("Tầng 1" → "Tầng một").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from config import Announce

from .calls import Call
from .numbers import read_ticket_number, read_token, speak_digits_in_text

__all__ = ["MERGE_LEAD", "MERGE_PART", "MERGE_PART_OTHER_FLOOR", "Wording"]

#: Merged sentences: the lead word, then one part per call, joined by ", ".
MERGE_LEAD = "Mời"
MERGE_PART = "số {number} đến quầy {counter}"
MERGE_PART_OTHER_FLOOR = "số {number} đến quầy {counter} ở {floor}"


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


@dataclass(frozen=True)
class Wording:
    """Everything the sentence depends on, taken from a site's ``[announce]`` and ``[[floors]]``."""

    template: str = Announce.template  # the site's wording; the defaults are config's
    template_other_floor: str = Announce.template_other_floor
    number_reading: str = Announce.number_reading
    dialect: str = Announce.dialect
    four_as_tu: bool = False
    floor_names: Mapping[int, str] = field(default_factory=dict)

    @classmethod
    def from_site(cls, site: Any, **overrides: Any) -> Wording:
        """The wording of a ``config.Site`` (its ``announce`` settings and floor names)."""
        announce = site.announce
        values = dict(
            template=announce.template, template_other_floor=announce.template_other_floor,
            number_reading=announce.number_reading, dialect=announce.dialect,
            floor_names={number: floor.name for number, floor in site.floor_by_number.items()},
        )
        values.update(overrides)
        return cls(**values)

    # -- pieces ------------------------------------------------------------------------------------
    def number(self, number: str) -> str:
        """A ticket number as read aloud: "V007" → "vê không không bảy" (digits) or "vê bảy" (words)."""
        return read_ticket_number(number, self.number_reading, self.dialect, four_as_tu=self.four_as_tu)

    def counter(self, counter: str) -> str:
        """A counter id as read aloud, always in words: "33" → "ba mươi ba"."""
        return read_token(counter, "words", self.dialect, four_as_tu=self.four_as_tu)

    def floor(self, floor: int) -> str:
        """A floor's name as read aloud: "Tầng 1" → "Tầng một"; an unnamed floor is "tầng <n>"."""
        name = self.floor_names.get(floor, f"tầng {floor}")
        return speak_digits_in_text(name, self.dialect)

    # -- sentences ---------------------------------------------------------------------------------
    def sentence(self, call: Call, here: int | None = None) -> str:
        """The sentence for one call, spoken on floor ``here`` (default: the ticket's floor)."""
        here = call.floor if here is None else here
        values = {"number": self.number(call.number), "counter": self.counter(call.counter)}
        if call.counter_floor != here:
            return self.template_other_floor.format(floor=self.floor(call.counter_floor), **values)
        return self.template.format(floor=self.floor(here), **values)

    def merged(self, calls: Sequence[Call], here: int | None = None) -> str:
        """One sentence for several calls in order; a single call gets the site's full template."""
        if not calls:
            raise ValueError("nothing to announce")
        if len(calls) == 1:
            return self.sentence(calls[0], here)
        parts = []
        for call in calls:
            where = call.floor if here is None else here
            values = {"number": self.number(call.number), "counter": self.counter(call.counter)}
            if call.counter_floor != where:
                parts.append(MERGE_PART_OTHER_FLOOR.format(
                    floor=_lower_first(self.floor(call.counter_floor)), **values))
            else:
                parts.append(MERGE_PART.format(**values))
        return f"{MERGE_LEAD} " + ", ".join(parts)
