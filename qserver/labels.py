"""Every Vietnamese word a citizen, an officer or a manager reads for a machine value, in one place.

Python modules use these tables; the pages receive them in their boot JSON (:func:`for_pages`), so no
page script carries its own copy. Sentences that name values (error messages) are built where the
error is raised (:mod:`qserver.exceptions`); the generic sentence for each error code is here.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "PRIORITY_NAMES", "TICKET_STATUS", "COUNTER_STATUS", "COUNTER_STATUS_WORDS", "COUNTER_STATE", "ACTION_NAMES", "RATING_LABELS",
    "WEEKDAYS", "ROLE_NAMES", "CHANNEL_NAMES", "BOOKING_STATUS", "ERROR_TEXT", "HTTP_STATUS_TEXT", "CITY_LEVELS",
    "CITY_PROBLEMS", "PLAN_KINDS", "HISTORY_DAY_STATUS", "MISS_REASONS", "WHAT_IF_KINDS", "PLAN_RISK_STATUS",
    "staffing_labels", "PRINTER_PROBLEMS", "PRINTER_VIA", "ONLINE_FILING", "NO_PROCEDURE", "counter_name",
    "lower_first", "for_pages", "for_city_page",
]

PRIORITY_NAMES = {"elderly": "Người cao tuổi", "disabled": "Người khuyết tật", "pregnant": "Phụ nữ mang thai",
                  "merit": "Người có công"}
TICKET_STATUS = {"waiting": "Đang chờ", "called": "Đã gọi", "done": "Đã hoàn thành", "no_show": "Vắng mặt",
                 "expired": "Hết hiệu lực"}
#: A counter's stored status.
COUNTER_STATUS = {"open": "Đang mở", "paused": "Tạm nghỉ", "closed": "Quầy đóng"}
#: A counter's status inside a sentence ("Quầy 12: tạm nghỉ").
COUNTER_STATUS_WORDS = {"open": "mở", "paused": "tạm nghỉ", "closed": "đóng"}
#: What the console shows for a counter: its status, and for an open one whether it serves someone.
COUNTER_STATE = {"serving": "Đang phục vụ", "idle": "Đang chờ gọi", "paused": "Tạm nghỉ", "closed": "Đóng"}
#: The officer's buttons.
ACTION_NAMES = {"call-next": "Gọi tiếp", "recall": "Gọi lại", "no-show": "Vắng mặt", "complete": "Hoàn thành",
                "transfer": "Chuyển", "pause": "Tạm nghỉ", "resume": "Tiếp tục", "procedure": "Sửa thủ tục"}
#: What is wrong with a kiosk's thermal printer, inside the console's alert ("Máy in của kiosk-1: hết giấy").
PRINTER_PROBLEMS = {"paper_out": "hết giấy", "printer_offline": "không hoạt động (tắt hoặc mất kết nối)",
                    "cover_open": "nắp máy in đang mở", "printer_error": "đang gặp lỗi", "bad_ticket": "không in được phiếu",
                    "paper_low": "sắp hết giấy"}
#: How a kiosk reaches its printer.
PRINTER_VIA = {"network": "máy in mạng", "agent": "máy in USB"}
#: Whether a procedure can be filed online (dịch vụ công trực tuyến), on the kiosk's procedure page.
ONLINE_FILING = {True: "Có thể nộp hồ sơ trực tuyến trên Cổng dịch vụ công", False: "Nộp hồ sơ trực tiếp tại quầy"}
#: A report row of the tickets taken without choosing a procedure.
NO_PROCEDURE = "Không chọn thủ tục"
#: Rating levels shown to citizens, per number of levels a site uses, best first.
RATING_LABELS = {
    3: {3: "Rất hài lòng", 2: "Hài lòng", 1: "Không hài lòng"},
    5: {5: "Rất hài lòng", 4: "Hài lòng", 3: "Bình thường", 2: "Không hài lòng", 1: "Rất không hài lòng"},
}
#: How a ticket came (officer pad, console, reports).
CHANNEL_NAMES = {"kiosk": "Lấy tại máy", "online": "Trực tuyến", "appointment": "Lịch hẹn"}
BOOKING_STATUS = {"booked": "Đã đặt", "checked_in": "Đã xác nhận", "cancelled": "Đã hủy", "no_show": "Không đến"}
WEEKDAYS = {"mon": "Thứ Hai", "tue": "Thứ Ba", "wed": "Thứ Tư", "thu": "Thứ Năm", "fri": "Thứ Sáu",
            "sat": "Thứ Bảy", "sun": "Chủ Nhật"}
#: Who did something, in the audit trail and the activity feed.
ROLE_NAMES = {"officer": "cán bộ", "manager": "quản lý", "kiosk": "máy lấy số", "display": "màn hình",
              "system": "hệ thống", "admin": "quản trị"}

#: The city console's trouble levels of a center (qserver/managers/city_view.py defines them).
CITY_LEVELS = {"bad": "Cần xử lý ngay", "warn": "Cần chú ý", "ok": "Bình thường"}
#: What is wrong at a center, as the city console's badges say it.
CITY_PROBLEMS = {"wait": "Chờ quá ngưỡng", "wait_soon": "Sắp quá ngưỡng chờ", "unserved": "Không có quầy mở",
                 "paused_only": "Quầy tạm nghỉ", "devices": "Thiết bị không phản hồi"}

#: Staffing (docs/staffing.md): the plans the heat map compares, ...
PLAN_KINDS = {"plan": "Kế hoạch bố trí quầy", "fixed": "Bố trí cố định tối thiểu", "config": "Bố trí hiện tại"}
#: ... why a past day was or was not used to learn the profiles and the forecast ...
HISTORY_DAY_STATUS = {"normal": "Ngày bình thường", "after_holiday": "Ngày đầu sau nghỉ lễ", "holiday": "Ngày nghỉ lễ",
                      "closed": "Không làm việc", "today": "Hôm nay (chưa hết ngày)", "low_volume": "Ít phiếu bất thường",
                      "outage": "Mất kết nối / ngừng cấp số"}
#: ... why a cell of a past day missed the target (``review_day``) ...
MISS_REASONS = {"short": "Thiếu quầy", "volume": "Đông hơn dự báo", "slow": "Phục vụ lâu hơn thường lệ",
                "backlog": "Tồn từ khung giờ trước", "other": "Lý do khác"}
#: ... what a what-if may change ...
WHAT_IF_KINDS = {"close_counter": "Đóng quầy", "add_officer": "Thêm cán bộ", "assign": "Giao quầy cho lĩnh vực",
                 "volume": "Lượng công dân tăng/giảm (cao điểm, sau lễ)"}
#: ... and a center's outlook in the city's view.
PLAN_RISK_STATUS = {"open": "Làm việc", "closed": "Không làm việc", "no_history": "Chưa đủ số liệu"}


def staffing_labels() -> dict[str, Any]:
    """The staffing words the reports page and the console receive in their boot JSON."""
    return {"plan_kinds": PLAN_KINDS, "day_status": HISTORY_DAY_STATUS, "miss_reasons": MISS_REASONS,
            "what_if_kinds": WHAT_IF_KINDS, "plan_risk_status": PLAN_RISK_STATUS}


#: The sentence a page shows for each error code (the server's own message is shown when it is
#: Vietnamese; this is the fallback). Keys equal ``exceptions.ERROR_CODES`` (checked by the suite).
ERROR_TEXT = {
    "bad_json": "Yêu cầu không hợp lệ.",
    "unauthorized": "Chưa đăng nhập hoặc phiên đăng nhập đã hết hạn.",
    "forbidden": "Tài khoản này không có quyền thực hiện thao tác này.",
    "unknown_site": "Không có trung tâm này.",
    "unknown_agency": "Không có cơ quan, lĩnh vực này.",
    "unknown_counter": "Không có quầy này.",
    "unknown_ticket": "Không tìm thấy số thứ tự này.",
    "not_found": "Không tìm thấy.",
    "method_not_allowed": "Địa chỉ này không nhận thao tác đó.",
    "unknown_booking": "Không tìm thấy lịch hẹn với mã này.",
    "unknown_slot": "Không có khung giờ hẹn này.",
    "closed_hours": "Ngoài giờ tiếp nhận.",
    "counter_paused": "Quầy đang tạm nghỉ. Bấm “Tiếp tục” trước.",
    "counter_closed": "Quầy đang đóng.",
    "nothing_current": "Quầy chưa có số nào đang phục vụ.",
    "not_waiting": "Số này không còn trong hàng chờ.",
    "same_agency": "Số này đã thuộc cơ quan được chọn.",
    "already_rated": "Số này đã được đánh giá.",
    "not_done": "Số này chưa được phục vụ xong.",
    "active_ticket": "Công dân đã có số đang chờ ở cơ quan này.",
    "already_paused": "Quầy đã tạm nghỉ.",
    "not_paused": "Quầy không tạm nghỉ.",
    "already_open": "Quầy đang mở.",
    "already_closed": "Quầy đã đóng.",
    "not_rotating": "Mã truy cập này không cần đổi.",
    "outside_plan_window": "Ngày này nằm ngoài khoảng có thể lập kế hoạch.",
    "webhook_not_set": "Trung tâm chưa cấu hình webhook.",
    "too_large": "Dữ liệu gửi lên quá lớn.",
    "invalid_field": "Dữ liệu không hợp lệ.",
    "invalid_cccd": "Không đọc được mã QR trên căn cước công dân.",
    "unknown_procedure": "Không có thủ tục này trong danh mục.",
    "procedure_agency_mismatch": "Thủ tục này không thuộc cơ quan được chọn.",
    "unknown_printer": "Máy in này chưa được cấu hình.",
    "paper_out": "Máy in hết giấy — mời lấy số ở máy bên cạnh",
    "printer_offline": "Máy in không hoạt động — mời lấy số ở máy bên cạnh",
    "cover_open": "Nắp máy in đang mở — mời lấy số ở máy bên cạnh",
    "printer_error": "Máy in đang gặp lỗi — mời lấy số ở máy bên cạnh",
    "online_disabled": "Trung tâm chưa nhận lấy số trực tuyến.",
    "online_closed": "Hiện chưa đến giờ lấy số trực tuyến.",
    "online_limit": "Bạn đã giữ đủ số lượng số trực tuyến cho phép trong ngày.",
    "online_barred": "Bạn đã vắng mặt nhiều lần khi đến lượt; vui lòng đến trung tâm lấy số tại máy.",
    "appointments_disabled": "Cơ quan này chưa nhận đặt lịch hẹn trực tuyến.",
    "slot_unavailable": "Không thể đặt khung giờ này lúc này.",
    "slot_full": "Khung giờ này đã hết chỗ.",
    "slot_closed": "Khung giờ này đã đóng.",
    "same_slot": "Lịch hẹn đã ở khung giờ này.",
    "already_booked": "Bạn đã có lịch hẹn ở cơ quan này trong ngày đã chọn.",
    "booking_limit": "Bạn đã giữ đủ số lịch hẹn cho phép.",
    "booking_cancelled": "Lịch hẹn này đã bị hủy.",
    "booking_used": "Lịch hẹn này đã được xác nhận.",
    "booking_expired": "Lịch hẹn này đã quá hạn.",
    "checkin_too_early": "Chưa đến giờ xác nhận lịch hẹn.",
    "checkin_too_late": "Đã quá giờ hẹn; vui lòng lấy số thường.",
    "invalid_id_number": "Số căn cước công dân phải gồm đúng 12 chữ số.",
    "invalid_phone": "Số điện thoại di động không hợp lệ.",
    "invalid_change": "Thay đổi này không áp dụng được cho kế hoạch.",
    "invalid_state": "Không đọc được tình hình hiện tại của trung tâm.",
    "no_history": "Chưa đủ số liệu các ngày trước để dự báo.",
    "rate_limited": "Thao tác quá nhanh, vui lòng chờ một chút.",
    "archive_unavailable": "Không đọc được kho lưu trữ báo cáo.",
    "redis_unavailable": "Hệ thống đang gián đoạn, vui lòng thử lại sau ít phút.",
}
#: By HTTP status, for answers without a known code; 0 is a page that could not reach the server.
HTTP_STATUS_TEXT = {
    0: "Không kết nối được máy chủ. Vui lòng thử lại.",
    400: ERROR_TEXT["bad_json"], 401: ERROR_TEXT["unauthorized"], 403: ERROR_TEXT["forbidden"],
    404: ERROR_TEXT["not_found"], 405: ERROR_TEXT["method_not_allowed"], 409: "Không thể thực hiện lúc này.", 413: ERROR_TEXT["too_large"],
    422: ERROR_TEXT["invalid_field"], 429: ERROR_TEXT["rate_limited"], 503: ERROR_TEXT["redis_unavailable"],
}

COUNTER_NAME = "Quầy {id}"


def counter_name(counter_id: str, configured: str | None = None) -> str:
    """A counter's configured name, or "Quầy 12"."""
    return configured or COUNTER_NAME.format(id=counter_id)


def lower_first(text: str) -> str:
    """A label inside a sentence: "Người cao tuổi" → "người cao tuổi"."""
    return text[:1].lower() + text[1:]


def for_pages(rating_levels: int) -> dict[str, Any]:
    """The labels every page receives in its boot JSON (``QS.labels``)."""
    return {
        "priorities": PRIORITY_NAMES, "ticket_status": TICKET_STATUS, "counter_status": COUNTER_STATUS,
        "counter_state": COUNTER_STATE, "actions": ACTION_NAMES, "channels": CHANNEL_NAMES,
        "booking_status": BOOKING_STATUS, "weekdays": WEEKDAYS, "counter_name": COUNTER_NAME,
        "rating": {str(level): text for level, text in RATING_LABELS[rating_levels].items()},
        "errors": ERROR_TEXT, "http": {str(status): text for status, text in HTTP_STATUS_TEXT.items()},
        "online": {"true": ONLINE_FILING[True], "false": ONLINE_FILING[False]}, "no_procedure": NO_PROCEDURE,
    }


def for_city_page() -> dict[str, Any]:
    """The labels of the city console and reports: every page's, plus the trouble levels and problems."""
    return {**for_pages(3), "city_levels": CITY_LEVELS, "city_problems": CITY_PROBLEMS,
            "plan_risk_status": PLAN_RISK_STATUS}
