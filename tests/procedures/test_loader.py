"""Catalogue files: the Cần Thơ sample loads; every kind of mistake is reported with its line, all at once."""

from __future__ import annotations

import json
from collections import Counter

import pytest

import config
from qserver.procedures import (
    BUILTIN_CATALOGUE_DIR, CatalogueError, Catalogue, check_catalogue, find_catalogue, load_catalogue,
    load_site_catalogue, parse_catalogue,
)

HEADER = "code,name,agency,field,documents,processing_time,fee,online\n"
ROW = 'TP1,Cấp Phiếu lý lịch tư pháp,so-tu-phap,Lý lịch tư pháp,Tờ khai|Bản chụp CCCD,10 ngày làm việc,200.000 đồng,có\n'


def problems(text: str, site, kind: str = "csv") -> list[str]:
    with pytest.raises(CatalogueError) as caught:
        parse_catalogue(text, site, kind=kind, source="t.csv")
    return caught.value.problems


def test_cantho_sample_has_eight_real_procedures_for_each_of_the_16_agencies(catalogue, site):
    """Every agency of the site file has at least 8 procedures; the common ones come first."""
    per_agency = Counter(p.agency for p in catalogue)
    assert set(per_agency) == set(site.agency_by_slug)
    assert min(per_agency.values()) >= 8
    first = {slug: catalogue.for_agency(slug)[0].name for slug in ("so-tu-phap", "so-giao-thong-van-tai", "so-xay-dung")}
    assert first["so-tu-phap"].startswith("Cấp Phiếu lý lịch tư pháp cho công dân Việt Nam")
    assert first["so-giao-thong-van-tai"] == "Đổi giấy phép lái xe do ngành Giao thông vận tải cấp"
    assert first["so-xay-dung"].startswith("Cấp giấy phép xây dựng mới")
    assert all(p.documents and p.processing_time and p.fee for p in catalogue)


def test_sample_file_says_which_fields_are_illustrative():
    """The sample's header comment names the illustrative columns."""
    head = (BUILTIN_CATALOGUE_DIR / "cantho.csv").read_text(encoding="utf-8").split("\ncode,", 1)[0]
    assert "ILLUSTRATIVE: code, documents (abridged), processing_time, fee and online" in head


def test_a_valid_row_becomes_a_procedure(site):
    """Cells are trimmed, documents split on |, "có" is True, the line is kept."""
    catalogue = parse_catalogue(HEADER + ROW, site)
    (p,) = catalogue.procedures
    assert (p.code, p.agency, p.field, p.online, p.line) == ("TP1", "so-tu-phap", "Lý lịch tư pháp", True, 2)
    assert p.documents == ("Tờ khai", "Bản chụp CCCD")
    assert catalogue.get("TP1") is p and catalogue.site == "cantho"


def test_every_problem_is_reported_with_its_line_at_once(site):
    """Unknown agency, duplicate code, empty and missing cells, a bad boolean: one error lists them all."""
    text = (
        "# a comment line before the header\n"
        + HEADER
        + ROW                                                                               # line 3
        + 'TP1,Tên khác,so-tu-phap,Hộ tịch,Tờ khai,1 ngày,Không,không\n'                       # line 4
        + 'TP2,Tên,so-tuphap,Hộ tịch,Tờ khai,1 ngày,Không,có\n'                                # line 5
        + 'TP3,,so-tu-phap,Hộ tịch, | ,1 ngày,Không,maybe\n'                                   # line 6
        + 'TP4,Tên,so-tu-phap,Hộ tịch,Tờ khai,1 ngày,Không,\n'                                 # line 7
        + 'TP 5,Tên,so-xyz,Hộ tịch,Tờ khai,1 ngày,Không,1\n'                                    # line 8
    )
    found = problems(text, site)
    assert found == [
        "line 4, procedure 'TP1': code 'TP1' is already used on line 3",
        "line 5, procedure 'TP2': unknown agency 'so-tuphap': not an agency of site 'cantho' "
        "(did you mean 'so-tu-phap'?)",
        "line 6, procedure 'TP3': name is empty",
        "line 6, procedure 'TP3': documents is empty (list at least one item, separated by |)",
        "line 6, procedure 'TP3': online = 'maybe' is not yes or no (use có/không, yes/no, true/false or 1/0)",
        "line 7, procedure 'TP4': online is empty (use có/không, yes/no, true/false or 1/0)",
        "line 8, procedure 'TP 5': code 'TP 5' is not letters, digits and . _ / - (at most 64)",
        "line 8, procedure 'TP 5': unknown agency 'so-xyz': not an agency of site 'cantho'",
    ]


def test_a_missing_column_is_named_once_at_the_header(site):
    """A header without 'fee' and 'online' is one problem on its line, not one per row."""
    text = "# note\ncode,name,agency,field,documents,processing_time\n" + "A,B,so-tu-phap,F,D,1 ngày\n" * 3
    assert problems(text, site) == [
        "line 2: the header lacks column(s) fee, online (needed: code, name, agency, field, documents, "
        "processing_time, fee, online)"]


def test_too_many_cells_point_at_the_unquoted_comma(site):
    """A row with an unquoted comma in a cell has more cells than the header: said with its line."""
    bad = 'TP2,Cấp giấy phép, sửa chữa,so-tu-phap,F,D,1 ngày,Không,có\n'
    assert problems(HEADER + ROW + bad, site) == [
        "line 3: 9 cells but the header has 8 (a comma inside a cell needs the cell in double quotes)"]


def test_line_numbers_count_multiline_cells_and_comments(site):
    """Documents on several lines of a quoted cell are items; later rows keep their true line."""
    text = (HEADER
            + 'TP1,Tên,so-tu-phap,F,"Tờ khai\nBản chụp CCCD\n02 ảnh 4x6",1 ngày,Không,có\n'   # lines 2-4
            + "# a comment row\n"                                                            # line 5
            + "\n"                                                                           # line 6
            + 'TP2,Tên,so-tu-phap,F,Tờ khai,1 ngày,Không,hmm\n')                              # line 7
    assert problems(text, site) == ["line 7, procedure 'TP2': online = 'hmm' is not yes or no "
                                    "(use có/không, yes/no, true/false or 1/0)"]
    ok = parse_catalogue(text.replace(",hmm", ",có"), site)
    assert ok.procedures[0].documents == ("Tờ khai", "Bản chụp CCCD", "02 ảnh 4x6")
    assert [p.line for p in ok.procedures] == [2, 7]


def test_vietnamese_headers_agency_names_and_semicolons_are_accepted(site):
    """A province export with Vietnamese column names, agency names and ';' loads; extra columns are ignored."""
    text = ("\ufeffMã thủ tục;Tên thủ tục;Cơ quan;Lĩnh vực;Thành phần hồ sơ;Thời hạn giải quyết;Phí, lệ phí;"
            "Trực tuyến;Mức độ\n"
            "1.001;Đổi giấy phép lái xe;Sở Giao thông vận tải;Đường bộ;Đơn|Giấy khám sức khỏe;5 ngày;135.000 đồng;"
            "Không;4\n")
    (p,) = parse_catalogue(text.lstrip("\ufeff"), site).procedures
    assert (p.code, p.agency, p.online, p.fee) == ("1.001", "so-giao-thong-van-tai", False, "135.000 đồng")


def test_json_catalogue_with_lines(site):
    """JSON: a list or {"procedures": [...]}; each record's problems carry the line it starts on."""
    good = {"code": "J1", "name": "Tên", "agency": "so-y-te", "field": "Dược phẩm", "documents": ["Đơn"],
            "processing_time": "20 ngày", "fee": "500.000 đồng", "online": True}
    text = json.dumps({"procedures": [good, {**good, "code": "J2", "online": "có", "documents": "A|B"},
                                      {**good, "code": "J1", "documents": [], "fee": 5}]}, indent=2,
                      ensure_ascii=False)
    lines = text.splitlines()
    third = max(i for i, line in enumerate(lines, 1) if line.strip() == "{")
    assert problems(text, site, "json") == [
        f"line {third}, procedure 'J1': fee = 5 is not text",
        f"line {third}, procedure 'J1': code 'J1' is already used on line 3",
        f"line {third}, procedure 'J1': documents is empty (list at least one item, separated by |)",
    ]
    fixed = json.dumps([good, {**good, "code": "J2", "online": "có", "documents": "A|B"}], ensure_ascii=False)
    catalogue = parse_catalogue(fixed, site, kind="json")
    assert [p.documents for p in catalogue] == [("Đơn",), ("A", "B")] and catalogue.get("J2").online is True
    assert problems("[1, 2", site, "json")[0].startswith("line 1: not valid JSON")
    assert problems('{"x": 1}', site, "json") == ['line 1: expected a list of procedures or {"procedures": [...]}']


def test_files_check_and_errors_name_the_file(tmp_path, site):
    """load_catalogue reads .csv/.json; check_catalogue lists problems; the error is a ConfigError naming the file."""
    path = tmp_path / "cantho.csv"
    path.write_text(HEADER + ROW + ROW, encoding="utf-8")
    assert check_catalogue(path, site) == ["line 3, procedure 'TP1': code 'TP1' is already used on line 2"]
    with pytest.raises(config.ConfigError) as caught:
        load_catalogue(path, site)
    assert str(caught.value).startswith(f"{path}: line 3")
    path.write_text(HEADER + ROW, encoding="utf-8")
    assert check_catalogue(path, site) == [] and len(load_catalogue(path, site)) == 1
    assert check_catalogue(tmp_path / "x.xlsx", site) == ["'x.xlsx' is not a .csv or .json file"]
    assert check_catalogue(tmp_path / "missing.csv", site) == ["cannot read the file: No such file or directory"]
    (tmp_path / "latin1.csv").write_bytes((HEADER + ROW).encode("cp1258", errors="replace"))
    assert check_catalogue(tmp_path / "latin1.csv", site)[0].startswith("not UTF-8 text")
    (tmp_path / "empty.csv").write_text(HEADER, encoding="utf-8")
    assert check_catalogue(tmp_path / "empty.csv", site) == ["the catalogue has no procedures"]


def test_find_catalogue_prefers_the_given_folders(tmp_path, site):
    """A site's file in an extra folder replaces the built-in one; a site without a file gets an empty catalogue."""
    assert find_catalogue("cantho") == BUILTIN_CATALOGUE_DIR / "cantho.csv"
    (tmp_path / "cantho.json").write_text(json.dumps([{
        "code": "X", "name": "N", "agency": "so-y-te", "field": "F", "documents": ["D"],
        "processing_time": "1 ngày", "fee": "0", "online": False}]), encoding="utf-8")
    assert find_catalogue("cantho", tmp_path) == tmp_path / "cantho.json"
    assert [p.code for p in load_site_catalogue(site, tmp_path)] == ["X"]
    assert find_catalogue("hanoi", tmp_path) is None
    other = config.parse_site(
        (config.BUILTIN_SITES_DIR / "cantho.toml").read_text(encoding="utf-8").replace('slug = "cantho"',
                                                                                      'slug = "vinhlong"'))
    assert load_site_catalogue(other) == Catalogue("vinhlong")
