"""What the ticket says: built from the site, laid out in Vietnamese, carried as JSON to the agent."""

from __future__ import annotations

import datetime as dt

import pytest

from qserver.printing import TicketDataError, TicketSlip, layout
from qserver.printing.slip import QR, Line, Rule
from qserver.printing.status import decode


def test_from_site_names_the_agency_floor_and_serving_counters(slip):
    """Sở Tư pháp: floor 1, counters 32-35 (32 is shared with Sở Ngoại vụ), local time, the procedure."""
    assert (slip.agency, slip.floor, slip.counters) == ("Sở Tư pháp", "Tầng 1", ("32", "33", "34", "35"))
    assert slip.issued_at.isoformat() == "2026-11-24T08:00:00+07:00" and slip.site_name == "TTPVHCC Cần Thơ"
    assert slip.procedure.startswith("Cấp Phiếu lý lịch tư pháp") and slip.documents[0].startswith("Tờ khai")


def test_from_site_rejects_an_unknown_agency(site):
    """An agency slug the site does not have is a TicketDataError naming it."""
    with pytest.raises(TicketDataError, match="agency 'so-xyz' is not configured for site 'cantho'"):
        TicketSlip.from_site(site, agency="so-xyz", number="Z001", ahead=0, qr_url="u",
                             issued_at=dt.datetime(2026, 11, 24, tzinfo=dt.timezone.utc))


def test_layout_reads_top_to_bottom(slip):
    """Site, number large, agency, floor and counters, people ahead, procedure, documents, QR, time."""
    blocks = layout(slip)
    texts = [b.text for b in blocks if isinstance(b, Line)]
    assert texts[:5] == ["TTPVHCC Cần Thơ", "SỐ THỨ TỰ", "V012", "Sở Tư pháp", "Tầng 1 · Quầy 32, 33, 34, 35"]
    assert texts[5] == "Có 5 người chờ trước bạn"
    assert texts[6].startswith("Thủ tục: Cấp Phiếu lý lịch tư pháp") and texts[7] == "Hồ sơ cần mang:"
    assert texts[8:11] == [f"• {d}" for d in slip.documents]
    assert texts[-2:] == ["Quét mã để theo dõi lượt của bạn", "Lấy số lúc 08:00 ngày 24/11/2026"]
    assert Line("V012", "huge", bold=True) in blocks and blocks.count(QR(slip.qr_url)) == 1
    assert sum(isinstance(b, Rule) for b in blocks) == 3


def test_layout_without_procedure_or_documents_and_with_priority(slip):
    """No procedure: no procedure lines; documents=False drops the list; priority and nobody ahead are said."""
    plain = TicketSlip(**{**slip.__dict__, "procedure": "", "documents": (), "ahead": 0, "priority": "Người cao tuổi"})
    texts = [b.text for b in layout(plain) if isinstance(b, Line)]
    assert "Ưu tiên: Người cao tuổi" in texts and "Không có người chờ trước bạn" in texts
    assert not any(t.startswith("Thủ tục") for t in texts)
    assert "Hồ sơ cần mang:" not in [b.text for b in layout(slip, documents=False) if isinstance(b, Line)]


def test_json_round_trip_and_bad_fields(slip):
    """to_mapping/from_mapping round-trip; bad JSON names every wrong field."""
    assert TicketSlip.from_mapping(slip.to_mapping()) == slip
    data = {**slip.to_mapping(), "ahead": "5", "issued_at": "24/11/2026", "counters": [32]}
    del data["number"]
    with pytest.raises(TicketDataError) as caught:
        TicketSlip.from_mapping(data)
    assert str(caught.value) == ("bad ticket: 'number' is missing; 'counters' must be a list of text; "
                                 "'ahead' = '5' is not int; 'issued_at' = '24/11/2026' is not an ISO date-time")
    with pytest.raises(TicketDataError, match="must be a JSON object, not list"):
        TicketSlip.from_mapping([1])


@pytest.mark.parametrize("answers, expected", [
    ((0x12, 0x12, 0x12), dict(online=True, paper="ok", cover_open=False, error="")),
    ((0x12, 0x12, 0x1E), dict(online=True, paper="low", cover_open=False, error="")),
    ((0x1A, 0x32, 0x72), dict(online=False, paper="out", cover_open=False, error="")),
    ((0x1A, 0x16, 0x12), dict(online=False, paper="ok", cover_open=True, error="")),
    ((0x1A, 0x52, 0x12, 0x1A), dict(online=False, paper="ok", cover_open=False, error="autocutter")),
])
def test_status_bytes_decode(answers, expected):
    """DLE EOT 1/2/4 (and 3) answers decode to online, paper, cover and error."""
    assert decode(*answers).to_dict() == expected
