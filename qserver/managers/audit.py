"""The audit trail of a day, from the site's event stream: every out-of-order call, priority skip (or an
appointment's turn), recall, no-show, transfer, move, reassignment, counter status change, notice and
closed appointment slots, each with who did it.
It replays the day's queues, so an entry that jumps numbers lists the earlier numbers it passed.
Pure functions of the stream's events; used by the managers' pages and API."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from config import Site

from ..labels import COUNTER_STATUS_WORDS, PRIORITY_NAMES, ROLE_NAMES, lower_first
from ..present import iso, present_procedure_ref

__all__ = ["AUDIT_KINDS", "access_detail", "actor_label", "audit_trail", "filter_audit"]

AUDIT_KINDS = {
    "out_of_order": "Gọi ngoài thứ tự",
    "skip": "Gọi vượt số",
    "recall": "Gọi lại",
    "no_show": "Vắng mặt",
    "transfer": "Chuyển lĩnh vực",
    "procedure": "Sửa thủ tục",
    "move": "Quản lý chuyển số",
    "reassign": "Đổi lĩnh vực của quầy",
    "status": "Đổi trạng thái quầy",
    "notice": "Thông báo",
    "manager_issue": "Quản lý cấp số",
    "access": "Quyền truy cập",
    "day": "Sang ngày mới",
    "slots": "Đóng, mở khung giờ hẹn",
}


def actor_label(actor: str | None) -> str:
    """``"manager:lan"`` → ``"lan (quản lý)"``; ``"system"`` → ``"hệ thống"``."""
    if not actor:
        return "—"
    role, _, name = actor.partition(":")
    word = ROLE_NAMES.get(role, role)
    return f"{name} ({word})" if name and name != role else word


def access_detail(event: dict[str, Any]) -> str:
    """One change of who may do what, in Vietnamese ("Thu hồi mã truy cập máy lấy số “kiosk-2” (mã 3fa9c0d1e2b4)")."""
    action, name = event.get("action"), event.get("name") or ""
    role = ROLE_NAMES.get(event.get("role") or "", event.get("role") or "")
    token = f" (mã {event.get('token_id')})" if event.get("token_id") else ""
    counters = f", quầy {', '.join(event['counters'])}" if event.get("counters") else ""
    user = event.get("user") or ""
    logins = f"; thu hồi {event['logins_revoked']} phiên đăng nhập" if event.get("logins_revoked") else ""
    if action == "token_created":
        return f"Tạo mã truy cập {role} “{name}”{token}{counters}"
    if action == "token_revoked":
        return f"Thu hồi mã truy cập {role} “{name}”{token}"
    if action == "token_rotating":
        hours = round((event.get("grace_s") or 0) / 3600, 1)
        return f"Đổi mã truy cập {role} “{name}”{token}: mã cũ còn dùng được {hours:g} giờ"
    if action == "user_saved":
        return f"Lưu tài khoản {user} ({role}{counters})"
    if action == "user_removed":
        return f"Xóa tài khoản {user} ({role}){logins}"
    if action == "password_changed":
        return f"Đổi mật khẩu tài khoản {user}{logins}"
    if action == "user_locked":
        return f"Tạm khóa tài khoản {user} sau nhiều lần đăng nhập sai (từ địa chỉ {event.get('address') or '?'})"
    return f"Thay đổi quyền truy cập: {action}"


def _priority_word(priority: str | None) -> str:
    """"người cao tuổi" (inside a sentence), or "" for no priority."""
    return lower_first(PRIORITY_NAMES[priority]) if priority in PRIORITY_NAMES else ""


def _numbers(tickets: list[dict[str, Any]]) -> str:
    shown = ", ".join(t.get("number", "?") for t in tickets[:8])
    return shown + (f" và {len(tickets) - 8} số khác" if len(tickets) > 8 else "")


def _dropped(event: dict[str, Any]) -> str:
    """", thủ tục “…” không còn gắn với số" when a move left the ticket's procedure behind."""
    name = event.get("from_procedure_name") or event.get("from_procedure")
    return f"; bỏ thủ tục “{name}” của cơ quan cũ" if name else ""


def audit_trail(site: Site, events: Iterable[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """Every out-of-order call, skip, recall, no-show, transfer, procedure correction, reassignment,
    counter status change, notice and manager-issued ticket of a day, in stream order, each with a
    Vietnamese explanation.

    The waiting queues are replayed from the events, so a call that passes over tickets issued before it
    is found and explained (priority, or an officer's choice). Tickets sent back after a no-show are
    not counted as passed over: their no-show entry explains them.
    """
    def agency_name(slug: str | None) -> str:
        agency = site.agency_by_slug.get(slug or "")
        return agency.name if agency else (slug or "—")

    waiting: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    statuses: dict[str, str] = {}
    entries: list[dict[str, Any]] = []

    def add(event_id: str, event: dict[str, Any], kind: str, detail: str, agencies: Iterable[str],
            ticket: dict[str, Any] | None = None, **extra: Any) -> None:
        counter = event.get("counter")
        if isinstance(counter, dict):
            counter = counter.get("id")
        entries.append({
            "event_id": event_id, "at": iso(site, event.get("at")), "kind": kind, "label": AUDIT_KINDS[kind],
            "ticket": ticket.get("number") if ticket else None, "ticket_id": ticket.get("id") if ticket else None,
            "agency": ticket.get("agency") if ticket else None,
            "counter": None if counter is None else str(counter),
            "actor": event.get("actor") or None, "actor_label": actor_label(event.get("actor")),
            "detail": detail, "agencies": sorted(set(a for a in agencies if a)), **extra,
        })

    for event_id, event in events:
        kind = event.get("type")
        ticket = event.get("ticket") if isinstance(event.get("ticket"), dict) else None
        counter = event.get("counter")
        if kind == "issued" and ticket:
            waiting[ticket["agency"]][ticket["id"]] = ticket
            if (event.get("actor") or "").startswith("manager"):
                priority = _priority_word(ticket.get("priority"))
                add(event_id, event, "manager_issue",
                    f"Cấp số {ticket['number']} cho {agency_name(ticket['agency'])}"
                    + (f", ưu tiên {priority}" if priority else ""), [ticket["agency"]], ticket)
        elif kind == "called" and ticket:
            if event.get("recall"):
                add(event_id, event, "recall", f"Quầy {counter} gọi lại số {ticket['number']} "
                    f"(lần {ticket.get('recalls') or 1})", [ticket["agency"]], ticket)
                continue
            queue = waiting[ticket["agency"]]
            queue.pop(ticket["id"], None)
            order = lambda t: (t.get("seq") or 0, t.get("issued_at") or 0)  # noqa: E731
            passed = sorted((t for t in queue.values() if order(t) < order(ticket) and not t.get("returned")),
                            key=order)
            if event.get("out_of_order"):
                detail = f"Quầy {counter} gọi đích danh số {ticket['number']}"
                detail += (f", vượt qua {len(passed)} số lấy trước đang chờ: {_numbers(passed)}" if passed
                           else " (không có số nào lấy trước đang chờ)")
                add(event_id, event, "out_of_order", detail, [ticket["agency"]], ticket,
                    skipped=[t.get("number") for t in passed])
            elif passed:
                priority = _priority_word(ticket.get("priority"))
                reason = f"ưu tiên {priority}" if priority else "theo thứ tự của hệ thống"
                if event.get("appointment_turn") and ticket.get("slot_at"):
                    reason = f"lịch hẹn lúc {iso(site, ticket['slot_at'])[11:16]} đã đến giờ"
                add(event_id, event, "skip", f"Quầy {counter} gọi số {ticket['number']} trước {len(passed)} số "
                    f"lấy trước đang chờ ({_numbers(passed)}): {reason}", [ticket["agency"]], ticket,
                    skipped=[t.get("number") for t in passed])
        elif kind == "no_show" and ticket:
            if event.get("returned"):
                waiting[ticket["agency"]][ticket["id"]] = ticket
                detail = (f"Số {ticket['number']} không đến quầy {counter}; được xếp lại hàng chờ "
                          f"sau {site.no_show_return_after} số kế tiếp (một lần)")
            else:
                detail = f"Số {ticket['number']} không đến quầy {counter}; kết thúc lượt"
            add(event_id, event, "no_show", detail, [ticket["agency"]], ticket)
        elif kind == "transferred" and ticket:
            source, target = event.get("from_agency"), event.get("agency") or ticket["agency"]
            waiting[source or ""].pop(ticket["id"], None)
            waiting[target][ticket["id"]] = ticket
            if counter is not None:
                add(event_id, event, "transfer", f"Quầy {counter} chuyển số {ticket['number']} từ "
                    f"{agency_name(source)} sang {agency_name(target)} (giữ thứ tự theo giờ lấy số{_dropped(event)})",
                    [source, target], ticket, from_agency=source)
            else:
                add(event_id, event, "move", f"Chuyển số {ticket['number']} đang chờ từ {agency_name(source)} "
                    f"sang {agency_name(target)} (giữ thứ tự theo giờ lấy số{_dropped(event)})", [source, target],
                    ticket, from_agency=source)
        elif kind == "procedure" and ticket:
            now = present_procedure_ref(ticket)
            before = event.get("from_procedure_name") or event.get("from_procedure")
            detail = (f"Quầy {counter} sửa thủ tục của số {ticket['number']}: "
                      f"{'“' + before + '”' if before else 'chưa chọn'} → {'“' + now['name'] + '”' if now else 'bỏ thủ tục'}")
            add(event_id, event, "procedure", detail, [ticket["agency"]], ticket,
                procedure=now["code"] if now else None, from_procedure=event.get("from_procedure"))
        elif kind == "counter" and isinstance(counter, dict):
            now = list(counter.get("agencies") or [])
            if "previous" in event:
                before = event["previous"] if isinstance(event["previous"], list) else []
                add(event_id, event, "reassign", f"Quầy {counter['id']} phục vụ: "
                    f"{', '.join(agency_name(a) for a in now)} (trước đó: "
                    f"{', '.join(agency_name(a) for a in before) or 'không có'})", [*before, *now],
                    previous=before, agencies_now=now)
            else:
                status = counter.get("status", "open")
                before = statuses.get(counter["id"])
                if before == "paused" and status == "open":
                    what = "tiếp tục làm việc"
                else:
                    what = COUNTER_STATUS_WORDS.get(status, status)
                reason = f" — lý do: {counter['reason']}" if counter.get("reason") else ""
                add(event_id, event, "status", f"Quầy {counter['id']}: {what}{reason}", now, status=status)
            statuses[counter["id"]] = counter.get("status", "open")
        elif kind == "notice" and isinstance(event.get("notice"), dict):
            notice = event["notice"]
            floor = notice.get("floor")
            where = "mọi tầng" if floor is None else (
                site.floor_by_number[floor].name if floor in site.floor_by_number else f"tầng {floor}")
            add(event_id, event, "notice", f"Thông báo ({where}): {notice.get('text', '')}",
                [a.slug for a in site.agencies if floor is None or a.floor == floor])
        elif kind == "access":
            add(event_id, event, "access", access_detail(event), [a.slug for a in site.agencies])
        elif kind in ("slots_closed", "slots_opened"):
            fields = event.get("slots") if isinstance(event.get("slots"), list) else []
            touched = sorted({f.split("|")[0] for f in fields})
            times = ", ".join(sorted({f.split("|")[1] for f in fields if "|" in f})) or "không khung giờ nào"
            if kind == "slots_closed":
                detail = (f"Đóng khung giờ hẹn ngày {event.get('day')} ({times}) của "
                          f"{', '.join(agency_name(a) for a in touched) or '—'}"
                          + (f" — lý do: {event['reason']}" if event.get("reason") else "")
                          + f"; hủy {event.get('cancelled') or 0} lịch hẹn và báo người đặt")
            else:
                detail = f"Mở lại khung giờ hẹn ngày {event.get('day')} ({times})"
            add(event_id, event, "slots", detail, touched)
        elif kind == "day":
            if event.get("expired"):
                waiting.clear()
            add(event_id, event, "day", f"Bắt đầu ngày {event.get('day')}; {event.get('expired') or 0} số "
                "chưa được gọi của ngày trước đã hết hạn", [a.slug for a in site.agencies])
    return entries


def filter_audit(entries: list[dict[str, Any]], *, counter: str | None = None,
                 agency: str | None = None, kinds: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """Entries of one counter and/or touching one agency and/or of some kinds."""
    wanted = set(kinds) if kinds else None
    return [e for e in entries
            if (counter is None or e["counter"] == counter)
            and (agency is None or agency in e["agencies"])
            and (wanted is None or e["kind"] in wanted)]
