"""The procedure catalogue over HTTP (search, browse, one procedure, bad parameters) and tickets that carry
a procedure: issued with one, refused for the wrong agency with nothing changed, corrected by the officer."""

from __future__ import annotations

import pytest

from qserver.engine import SiteKeys
from qserver.procedures import fold, load_site_catalogue

SITE = "/api/v1/sites/cantho"
LLTP = "CT.TP.001"          # Cấp Phiếu lý lịch tư pháp cho công dân Việt Nam ...
TRICH_LUC = "CT.TP.003"     # Cấp bản sao trích lục hộ tịch (Sở Tư pháp too)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def catalogue(site_module):
    return load_site_catalogue(site_module)


@pytest.fixture(scope="module")
def site_module():
    import config

    return config.load_sites()["cantho"]


@pytest.fixture
async def http(live):
    async with live.client() as client:
        yield client


async def search(http, **params) -> dict:
    response = await http.get(f"{SITE}/procedures", params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def stream_length(live) -> int:
    return await live.app.state.redis.xlen(SiteKeys("cantho").events)


# ------------------------------------------------------------------------------------------ reading
@pytest.mark.parametrize("query, code, agency", [
    ("ly lich tu phap", LLTP, "so-tu-phap"),
    ("LÍ LỊCH tư pháp", LLTP, "so-tu-phap"),
    ("tu phap ly lich", LLTP, "so-tu-phap"),          # word order
    ("ly lihc tu phap", LLTP, "so-tu-phap"),          # a typo
    ("giay phep xay dung", "CT.XD.001", "so-xay-dung"),
    ("bang lai", "CT.GT.001", "so-giao-thong-van-tai"),  # what people say for "giấy phép lái xe"
])
async def test_search_forgives_and_ranks_the_common_procedure_first(http, catalogue, query, code, agency):
    """Without diacritics, in any case, words swapped or mistyped: the expected procedure comes first,
    with its agency's name, floor and counters, and a score."""
    answer = await search(http, q=query)
    first = answer["results"][0]
    assert first["code"] == code and first["agency"] == agency
    assert first["name"] == catalogue.get(code).name and first["documents"] == list(catalogue.get(code).documents)
    assert 0.6 <= first["score"] <= 1.0
    assert answer["message"] == "" and answer["total"] >= len(answer["results"]) >= 1
    scores = [r["score"] for r in answer["results"]]
    assert scores == sorted(scores, reverse=True)


async def test_search_result_carries_where_to_go(http):
    """A result names the agency, its floor and the counters serving it (from the site file)."""
    first = (await search(http, q="ly lich tu phap"))["results"][0]
    assert first["agency_name"] == "Sở Tư pháp" and first["floor"] == 1 and first["floor_name"] == "Tầng 1"
    assert first["counters"] == ["32", "33", "34", "35"]
    assert first["processing_time"] == "10 ngày làm việc" and first["online"] is True


async def test_a_query_matching_nothing_is_a_clear_empty_answer(http):
    """Nonsense: 200 with no results, total 0 and the Vietnamese line the kiosk shows."""
    answer = await search(http, q="qwzx plokm")
    assert answer["results"] == [] and answer["total"] == 0
    assert answer["message"] == ("Không tìm thấy thủ tục nào khớp với “qwzx plokm”. "
                                 "Hãy thử từ khác hoặc tìm theo lĩnh vực.")


async def test_limit_agency_and_field_narrow_the_answer(http, catalogue):
    """limit cuts the list (total still counts all), agency keeps one agency's, field one field's."""
    wide = await search(http, q="giay phep", limit=3)
    assert len(wide["results"]) == 3 and wide["total"] > 3
    only = await search(http, q="giay phep", agency="so-y-te", limit=50)
    assert only["results"] and {r["agency"] for r in only["results"]} == {"so-y-te"}
    in_field = await search(http, q="giay phep", field="hoat dong xay dung", limit=50)
    assert in_field["results"] and {fold(r["field"]) for r in in_field["results"]} == {"hoat dong xay dung"}
    assert in_field["total"] < (await search(http, q="giay phep", limit=50))["total"]


async def test_browsing_a_field_lists_it_in_file_order(http, catalogue):
    """Without q, field= lists every procedure of the field in the catalogue's order (common ones first)."""
    answer = await search(http, field="duong bo", limit=500)
    expected = [p.code for p in catalogue.in_field("Đường bộ")]
    assert [r["code"] for r in answer["results"]] == expected and answer["total"] == len(expected) > 1
    assert all("score" not in r for r in answer["results"])
    empty = await search(http, field="Không có lĩnh vực này")
    assert empty["results"] == [] and empty["message"] == "Không có thủ tục nào thuộc lĩnh vực “Không có lĩnh vực này”."


async def test_fields_with_counts(http, catalogue):
    """procedure-fields lists every field once with its count; the counts add up to the catalogue."""
    answer = (await http.get(f"{SITE}/procedure-fields")).json()
    counts = {f["name"]: f["count"] for f in answer["fields"]}
    assert sum(counts.values()) == len(catalogue) == answer["total"]
    assert counts["Lý lịch tư pháp"] == len(catalogue.in_field("Lý lịch tư pháp"))
    tu_phap = (await http.get(f"{SITE}/procedure-fields", params={"agency": "so-tu-phap"})).json()
    assert sum(f["count"] for f in tu_phap["fields"]) == len(catalogue.for_agency("so-tu-phap"))
    assert all(f["agencies"] == ["so-tu-phap"] for f in tu_phap["fields"])


async def test_one_procedure_by_code_and_an_unknown_code(http, catalogue):
    """GET .../procedures/{code}: the procedure; an unknown code is 404 unknown_procedure naming it."""
    found = await http.get(f"{SITE}/procedures/{LLTP}")
    assert found.status_code == 200 and found.json()["name"] == catalogue.get(LLTP).name
    missing = await http.get(f"{SITE}/procedures/XX.999")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "unknown_procedure"
    assert "XX.999" in missing.json()["error"]["message"]
    other_site = await http.get("/api/v1/sites/nowhere/procedures")
    assert other_site.status_code == 404 and other_site.json()["error"]["code"] == "unknown_site"


@pytest.mark.parametrize("params, status, code", [
    ({"q": "ly lich", "limit": "0"}, 422, "invalid_field"),
    ({"q": "ly lich", "limit": "501"}, 422, "invalid_field"),
    ({"q": "ly lich", "limit": "nhiều"}, 422, "invalid_field"),
    ({"q": "x" * 201}, 422, "invalid_field"),
    ({"q": "ly lich", "agency": "so-khong-co"}, 404, "unknown_agency"),
])
async def test_bad_parameters_are_refused(http, params, status, code):
    """limit outside 1..500 or not a number, a query over 200 characters: 422; an unknown agency: 404."""
    response = await http.get(f"{SITE}/procedures", params=params)
    assert response.status_code == status and response.json()["error"]["code"] == code


async def test_the_catalogue_is_in_the_openapi_document(http):
    """/openapi.json has the three read paths, public, with their query parameters and schemas."""
    spec = (await http.get("/openapi.json")).json()
    paths = spec["paths"]
    listing = paths["/api/v1/sites/{site}/procedures"]["get"]
    assert {p["name"] for p in listing["parameters"] if p["in"] == "query"} == {"q", "field", "agency", "limit"}
    assert "security" not in listing
    assert listing["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ProcedureList"}
    one = paths["/api/v1/sites/{site}/procedures/{code}"]["get"]
    assert {p["name"] for p in one["parameters"]} == {"site", "code"}
    assert "/api/v1/sites/{site}/procedure-fields" in paths
    assert "/api/v1/sites/{site}/counters/{counter}/procedure" in paths
    schemas = spec["components"]["schemas"]
    assert "procedure" in schemas["IssueRequest"]["properties"] and "procedure" in schemas["Ticket"]["properties"]


async def test_the_index_is_built_once_per_process(live, http):
    """Every search uses the app's one SearchIndex (built at start, never per request)."""
    index = live.app.state.catalogues["cantho"].index
    await search(http, q="ly lich tu phap")
    await search(http, q="bang lai")
    assert live.app.state.catalogues["cantho"].index is index


# ------------------------------------------------------------------------------------------ tickets
async def test_a_procedure_alone_gives_a_ticket_for_its_agency(live, http, catalogue):
    """{"procedure"} alone: 201 for the procedure's agency, the ticket and its `issued` event carry it."""
    kiosk = live.token("kiosk")
    response = await http.post(f"{SITE}/tickets", json={"procedure": LLTP}, headers=bearer(kiosk))
    assert response.status_code == 201, response.text
    ticket = response.json()
    assert ticket["agency"] == "so-tu-phap" and ticket["number"] == "V001"
    assert ticket["procedure"] == {"code": LLTP, "name": catalogue.get(LLTP).name}
    assert "procedure_name" not in ticket
    read = (await http.get(f"{SITE}/tickets/{ticket['id']}")).json()
    assert read["procedure"] == ticket["procedure"]
    events = await live.app.state.engines["cantho"].recent_events(5)
    issued = next(event for _id, event in events if event["type"] == "issued")
    assert issued["ticket"]["procedure"] == LLTP and issued["ticket"]["procedure_name"] == catalogue.get(LLTP).name


async def test_agency_and_procedure_that_agree_are_accepted(live, http):
    """Both given and matching: 201, same ticket as with the procedure alone."""
    body = {"agency": "so-tu-phap", "procedure": TRICH_LUC}
    response = await http.post(f"{SITE}/tickets", json=body, headers=bearer(live.token("kiosk")))
    assert response.status_code == 201 and response.json()["procedure"]["code"] == TRICH_LUC


@pytest.mark.parametrize("body, status, code", [
    ({"agency": "so-noi-vu", "procedure": LLTP}, 422, "procedure_agency_mismatch"),
    ({"procedure": "XX.999"}, 404, "unknown_procedure"),
    ({"agency": "so-tu-phap", "procedure": 12}, 422, "invalid_field"),
    ({}, 422, "invalid_field"),
])
async def test_a_wrong_procedure_is_refused_and_changes_nothing(live, http, body, status, code):
    """Another agency's procedure, an unknown code, a code that is no string, neither field: refused with
    the code, no event written and no number used (the next ticket of Nội vụ is still E001)."""
    kiosk = live.token("kiosk")
    before = await stream_length(live)
    response = await http.post(f"{SITE}/tickets", json=body, headers=bearer(kiosk))
    assert response.status_code == status and response.json()["error"]["code"] == code
    assert await stream_length(live) == before
    if code == "procedure_agency_mismatch":
        error = response.json()["error"]
        assert error["procedure"] == LLTP and error["procedure_agency"] == "so-tu-phap"
        assert "không thuộc Sở Nội vụ" in error["message"]
    nxt = await http.post(f"{SITE}/tickets", json={"agency": "so-noi-vu"}, headers=bearer(kiosk))
    assert nxt.json()["number"] == "E001"


async def test_an_unknown_procedure_is_404_before_the_403(live, http):
    """A display token naming an unknown procedure gets the 404 first (the contract's check order)."""
    response = await http.post(f"{SITE}/tickets", json={"procedure": "XX.1"}, headers=bearer(live.token("display")))
    assert response.status_code == 404
    allowed = await http.post(f"{SITE}/tickets", json={"procedure": LLTP}, headers=bearer(live.token("display")))
    assert allowed.status_code == 403


# ------------------------------------------------------------------------------------------ correction
async def test_the_officer_corrects_the_procedure_of_the_current_ticket(live, http, catalogue):
    """POST .../counters/33/procedure: the ticket now carries the new one, a `procedure` event names the
    old one, the audit trail explains it; the same one again changes nothing; null clears it."""
    kiosk, officer = live.token("kiosk"), live.token("officer", ["33"], name="lan")
    issued = (await http.post(f"{SITE}/tickets", json={"procedure": LLTP}, headers=bearer(kiosk))).json()
    await http.post(f"{SITE}/counters/33/call-next", json={}, headers=bearer(officer))
    response = await http.post(f"{SITE}/counters/33/procedure", json={"procedure": TRICH_LUC}, headers=bearer(officer))
    assert response.status_code == 200, response.text
    assert response.json()["procedure"] == {"code": TRICH_LUC, "name": catalogue.get(TRICH_LUC).name}
    assert response.json()["id"] == issued["id"] and response.json()["status"] == "called"
    engine = live.app.state.engines["cantho"]
    (_id, event), = [(i, e) for i, e in await engine.recent_events(3) if e["type"] == "procedure"]
    assert event["from_procedure"] == LLTP and event["ticket"]["procedure"] == TRICH_LUC
    assert event["counter"] == "33" and event["actor"] == "officer:lan"

    before = await stream_length(live)
    again = await http.post(f"{SITE}/counters/33/procedure", json={"procedure": TRICH_LUC}, headers=bearer(officer))
    assert again.status_code == 200 and await stream_length(live) == before

    manager = live.token("manager")
    audit = (await http.get(f"{SITE}/audit", params={"kind": "procedure"}, headers=bearer(manager))).json()
    (entry,) = audit["entries"]
    assert entry["ticket"] == "V001" and entry["counter"] == "33" and entry["actor_label"] == "lan (cán bộ)"
    assert entry["detail"] == (f"Quầy 33 sửa thủ tục của số V001: “{catalogue.get(LLTP).name}” → "
                               f"“{catalogue.get(TRICH_LUC).name}”")

    cleared = await http.post(f"{SITE}/counters/33/procedure", json={"procedure": None}, headers=bearer(officer))
    assert cleared.status_code == 200 and cleared.json()["procedure"] is None


async def test_a_correction_to_another_agencys_procedure_is_refused(live, http):
    """A Sở Xây dựng procedure for a Sở Tư pháp ticket: 422 procedure_agency_mismatch, the ticket unchanged;
    nothing served: 409 nothing_current; another counter's officer: 403."""
    kiosk, officer = live.token("kiosk"), live.token("officer", ["33"])
    ticket = (await http.post(f"{SITE}/tickets", json={"procedure": LLTP}, headers=bearer(kiosk))).json()
    idle = await http.post(f"{SITE}/counters/33/procedure", json={"procedure": TRICH_LUC}, headers=bearer(officer))
    assert idle.status_code == 409 and idle.json()["error"]["code"] == "nothing_current"
    await http.post(f"{SITE}/counters/33/call-next", json={}, headers=bearer(officer))
    before = await stream_length(live)
    wrong = await http.post(f"{SITE}/counters/33/procedure", json={"procedure": "CT.XD.001"}, headers=bearer(officer))
    assert wrong.status_code == 422 and wrong.json()["error"]["code"] == "procedure_agency_mismatch"
    assert wrong.json()["error"]["ticket"] == ticket["number"]
    assert await stream_length(live) == before
    assert (await http.get(f"{SITE}/tickets/{ticket['id']}")).json()["procedure"]["code"] == LLTP
    missing = await http.post(f"{SITE}/counters/33/procedure", json={}, headers=bearer(officer))
    assert missing.status_code == 422
    other = await http.post(f"{SITE}/counters/33/procedure", json={"procedure": TRICH_LUC},
                            headers=bearer(live.token("officer", ["12"])))
    assert other.status_code == 403


async def test_a_transfer_leaves_the_procedure_behind(live, http):
    """Transferred to another agency, the ticket no longer carries the old agency's procedure; the event
    names it and the audit entry says so."""
    kiosk, manager = live.token("kiosk"), live.token("manager")
    ticket = (await http.post(f"{SITE}/tickets", json={"procedure": LLTP}, headers=bearer(kiosk))).json()
    await http.post(f"{SITE}/counters/33/call-next", json={}, headers=bearer(manager))
    moved = await http.post(f"{SITE}/counters/33/transfer", json={"agency": "so-noi-vu"}, headers=bearer(manager))
    assert moved.status_code == 200 and moved.json()["procedure"] is None and moved.json()["agency"] == "so-noi-vu"
    audit = (await http.get(f"{SITE}/audit", params={"kind": "transfer"}, headers=bearer(manager))).json()
    assert "bỏ thủ tục “Cấp Phiếu lý lịch tư pháp" in audit["entries"][0]["detail"]
    assert audit["entries"][0]["ticket_id"] == ticket["id"]
