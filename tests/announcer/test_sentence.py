"""The sentence builder: site templates, other-floor wording, merged calls, number readings."""

import dataclasses

import pytest

from announcer.calls import Call
from announcer.sentence import Wording


def call(number="V007", counter="33", floor=1, counter_floor=1, event_id="1-0"):
    return Call(event_id, f"t-{number}", number, counter, floor, counter_floor)


def test_default_site_sentence(wording):
    """Cần Thơ reads the number digit by digit and the counter in words, in the site's template."""
    assert wording.sentence(call()) == "Mời công dân có số thứ tự vê không không bảy đến quầy số ba mươi ba"


def test_words_reading(cantho):
    """With number_reading = words the ticket number is read as a number: V1023 → vê một ngàn ..."""
    wording = Wording.from_site(cantho, number_reading="words")
    assert wording.sentence(call("V1023", "5", 0, 0)) == \
        "Mời công dân có số thứ tự vê một ngàn không trăm hai mươi ba đến quầy số năm"


def test_northern_dialect(cantho):
    """The northern dialect says nghìn and linh."""
    wording = Wording.from_site(cantho, number_reading="words", dialect="north")
    assert wording.sentence(call("N1005", "24")) == \
        "Mời công dân có số thứ tự en-nờ một nghìn không trăm linh năm đến quầy số hai mươi bốn"


def test_counter_on_another_floor_names_its_floor(wording):
    """A counter on another floor uses template_other_floor with that floor's name, digits in words."""
    assert wording.sentence(call("A012", "32", floor=0, counter_floor=1)) == \
        "Mời công dân có số thứ tự a không một hai đến quầy số ba mươi hai, Tầng một"
    assert wording.sentence(call("V007", "5", floor=1, counter_floor=0)) == \
        "Mời công dân có số thứ tự vê không không bảy đến quầy số năm, Tầng trệt"


def test_sentence_spoken_on_the_counters_floor_uses_plain_template(wording):
    """Spoken on the counter's own floor (cross-floor 'both'), the plain template is used."""
    assert wording.sentence(call("A012", "32", floor=0, counter_floor=1), here=1) == \
        "Mời công dân có số thứ tự a không một hai đến quầy số ba mươi hai"


def test_custom_templates(cantho):
    """A site's own template wording and placeholders are honoured."""
    announce = dataclasses.replace(cantho.announce, template="Xin mời số {number}, quầy {counter}")
    wording = Wording.from_site(dataclasses.replace(cantho, announce=announce))
    assert wording.sentence(call("B100", "3", 0, 0)) == "Xin mời số bê một không không, quầy ba"


def test_merge_of_several_calls(wording):
    """Several waiting calls become one sentence, in order: "Mời số ... đến quầy ..., số ... đến quầy ..."."""
    text = wording.merged([call("V007", "33"), call("N012", "24"), call("Q101", "27")], here=1)
    assert text == ("Mời số vê không không bảy đến quầy ba mươi ba, số en-nờ không một hai đến quầy hai mươi bốn, "
                    "số quy một không một đến quầy hai mươi bảy")


def test_merge_names_other_floor(wording):
    """In a merged sentence a counter on another floor is followed by "ở <floor>"."""
    text = wording.merged([call("V007", "33"), call("V008", "5", floor=1, counter_floor=0)], here=1)
    assert text == "Mời số vê không không bảy đến quầy ba mươi ba, số vê không không tám đến quầy năm ở tầng trệt"


def test_merge_of_one_is_the_full_sentence(wording):
    """A merge of a single call is the site's full sentence; a merge of none is an error."""
    assert wording.merged([call()]) == wording.sentence(call())
    with pytest.raises(ValueError):
        wording.merged([])
