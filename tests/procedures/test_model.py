"""Browsing the catalogue: by code, by agency, by field with counts."""

from __future__ import annotations

import pytest

from qserver.procedures import UnknownProcedure, parse_catalogue

HEADER = "code,name,agency,field,documents,processing_time,fee,online\n"
ROWS = (
    "A1,Đổi giấy phép lái xe,so-giao-thong-van-tai,Đường bộ,Đơn,5 ngày,135.000 đồng,có\n"
    "A2,Cấp lại giấy phép lái xe,so-giao-thong-van-tai,Đường bộ,Đơn,10 ngày,135.000 đồng,có\n"
    "A3,Đăng ký phương tiện thủy nội địa lần đầu,so-giao-thong-van-tai,Đường thủy nội địa,Tờ khai,3 ngày,"
    "70.000 đồng,không\n"
    "B1,Cấp bản sao trích lục hộ tịch,so-tu-phap,Hộ tịch,Tờ khai,1 ngày,8.000 đồng,có\n"
    "C1,Cấp giấy phép lao động cho người lao động nước ngoài,so-lao-dong-tbxh,Việc làm,Đơn,5 ngày,0,có\n"
    "C2,Cấp giấy phép lao động cho người lao động nước ngoài,ban-quan-ly-kcx-kcn,Việc làm,Đơn,5 ngày,0,có\n"
    "D1,Cấp giấy phép xây dựng mới,so-xay-dung,Hoạt động xây dựng,Đơn,20 ngày,150.000 đồng,có\n"
)


@pytest.fixture
def small(site):
    return parse_catalogue(HEADER + ROWS, site)


def test_fields_come_with_counts_and_agencies_in_vietnamese_order(small):
    """fields() counts each field's procedures and names the agencies handling it, sorted like a dictionary."""
    fields = small.fields()
    assert [(f.name, f.count) for f in fields] == [
        ("Đường bộ", 2), ("Đường thủy nội địa", 1), ("Hoạt động xây dựng", 1), ("Hộ tịch", 1), ("Việc làm", 2)]
    assert fields[-1].agencies == ("so-lao-dong-tbxh", "ban-quan-ly-kcx-kcn")
    assert [(f.name, f.count) for f in small.fields(agency="so-giao-thong-van-tai")] == [
        ("Đường bộ", 2), ("Đường thủy nội địa", 1)]


def test_in_field_matches_without_diacritics_and_keeps_file_order(small):
    """in_field("duong bo") finds "Đường bộ"; an agency narrows it; an unknown field gives nothing."""
    assert [p.code for p in small.in_field("duong bo")] == ["A1", "A2"]
    assert [p.code for p in small.in_field("Việc làm", agency="ban-quan-ly-kcx-kcn")] == ["C2"]
    assert small.in_field("thuế") == ()


def test_lookup_by_code_and_agency(small):
    """get() finds a code or raises UnknownProcedure naming it; for_agency keeps file order."""
    assert small.get("B1").name == "Cấp bản sao trích lục hộ tịch"
    with pytest.raises(UnknownProcedure, match="procedure 'Z9' is not in the catalogue of site 'cantho'"):
        small.get("Z9")
    with pytest.raises(LookupError):
        small.get("")
    assert [p.code for p in small.for_agency("so-giao-thong-van-tai")] == ["A1", "A2", "A3"]
    assert small.summary() == "7 procedures for 5 agencies in 5 fields"


def test_to_dict_is_json_ready(small):
    """A procedure's dict has lists, not tuples, and no file line."""
    assert small.get("A3").to_dict() == {
        "code": "A3", "name": "Đăng ký phương tiện thủy nội địa lần đầu", "agency": "so-giao-thong-van-tai",
        "field": "Đường thủy nội địa", "documents": ["Tờ khai"], "processing_time": "3 ngày",
        "fee": "70.000 đồng", "online": False, "keywords": [], "note": ""}
