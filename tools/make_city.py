"""Generate the 103 commune centers of ``config/cities/cantho/``: one small file each, holding only what
differs from ``_templates/commune.toml`` (slug, name, address, groups, counters, hours if different).

    python tools/make_city.py            # (re)write config/cities/cantho/{can-tho-cu,hau-giang-cu,soc-trang-cu}/
    python tools/make_city.py --check    # exit 1 when the shipped files differ from what this makes
    python tools/make_city.py --out DIR  # write elsewhere (DIR/<province folder>/*.toml)

Since 1-7-2025 Cần Thơ (merged with Hậu Giang and Sóc Trăng) has 103 commune-level units, 31 phường
and 72 xã. The names below are real where known and plausible otherwise; the list is not the official
one, and the addresses, counter counts and desk layouts are illustrative (made from a seeded random
per slug, so the output is the same on every run). The city center (``cantho.toml``) and the template
are written by hand, not by this script. Standard library only.
"""

from __future__ import annotations

import argparse
import random
import sys
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CITY = ROOT / "config" / "cities" / "cantho"

# former province -> (folder, {former district or town: [units]})
PROVINCES = {
    "Cần Thơ cũ": ("can-tho-cu", {
        "Ninh Kiều": ["phường Ninh Kiều", "phường Cái Khế", "phường Tân An", "phường An Bình"],
        "Bình Thủy": ["phường Bình Thủy", "phường Long Tuyền", "phường Thới An Đông"],
        "Cái Răng": ["phường Cái Răng", "phường Hưng Phú"],
        "Ô Môn": ["phường Ô Môn", "phường Phước Thới", "phường Thới Long"],
        "Thốt Nốt": ["phường Thốt Nốt", "phường Trung Nhứt", "phường Thuận Hưng", "phường Tân Lộc"],
        "Phong Điền": ["xã Phong Điền", "xã Nhơn Ái", "xã Trường Long"],
        "Thới Lai": ["xã Thới Lai", "xã Đông Thuận", "xã Trường Xuân", "xã Trường Thành"],
        "Cờ Đỏ": ["xã Cờ Đỏ", "xã Đông Hiệp", "xã Thạnh Phú", "xã Thới Hưng", "xã Trung Hưng"],
        "Vĩnh Thạnh": ["xã Vĩnh Thạnh", "xã Vĩnh Trinh", "xã Thạnh An", "xã Thạnh Quới"],
    }),
    "Hậu Giang cũ": ("hau-giang-cu", {
        "Vị Thanh": ["phường Vị Thanh", "phường Vị Tân", "xã Hỏa Lựu"],
        "Ngã Bảy": ["phường Ngã Bảy", "phường Đại Thành"],
        "Long Mỹ": ["phường Long Bình", "phường Long Mỹ", "phường Long Phú 1", "xã Long Mỹ", "xã Vĩnh Viễn",
                    "xã Xà Phiên", "xã Lương Tâm"],
        "Châu Thành A": ["xã Thạnh Xuân", "xã Tân Hòa", "xã Trường Long Tây"],
        "Châu Thành": ["xã Châu Thành", "xã Đông Phước", "xã Phú Hữu"],
        "Phụng Hiệp": ["xã Phụng Hiệp", "xã Hiệp Hưng", "xã Phương Bình", "xã Tân Phước Hưng", "xã Thạnh Hòa",
                       "xã Hòa An"],
        "Vị Thủy": ["xã Vị Thủy", "xã Vĩnh Thuận Đông", "xã Vị Thanh 1", "xã Vĩnh Tường"],
    }),
    "Sóc Trăng cũ": ("soc-trang-cu", {
        "Sóc Trăng": ["phường Sóc Trăng", "phường Phú Lợi"],
        "Mỹ Xuyên": ["phường Mỹ Xuyên", "xã Nhu Gia", "xã Hòa Tú", "xã Gia Hòa", "xã Ngọc Tố"],
        "Vĩnh Châu": ["phường Vĩnh Châu", "phường Vĩnh Phước", "phường Khánh Hòa", "xã Vĩnh Hải", "xã Lai Hòa"],
        "Ngã Năm": ["phường Ngã Năm", "phường Mỹ Quới", "xã Tân Long"],
        "Kế Sách": ["xã Kế Sách", "xã An Lạc Thôn", "xã Phong Nẫm", "xã Thới An Hội", "xã Nhơn Mỹ", "xã Đại Hải"],
        "Châu Thành (Sóc Trăng)": ["xã Phú Tâm", "xã An Ninh", "xã Thuận Hòa", "xã Hồ Đắc Kiện"],
        "Mỹ Tú": ["xã Mỹ Tú", "xã Long Hưng", "xã Mỹ Phước", "xã Mỹ Hương"],
        "Cù Lao Dung": ["xã Cù Lao Dung", "xã An Thạnh"],
        "Long Phú": ["xã Long Phú", "xã Đại Ngãi", "xã Trường Khánh", "xã Tân Thạnh"],
        "Trần Đề": ["xã Trần Đề", "xã Liêu Tú", "xã Lịch Hội Thượng", "xã Tài Văn", "xã Viên An"],
        "Thạnh Trị": ["xã Thạnh Trị", "xã Lâm Tân", "xã Vĩnh Lợi"],
    }),
}

# The commune fields of the template, in desk order, and which neighbour a desk of each backs up.
FIELDS = ("tu-phap-ho-tich", "dat-dai-tai-nguyen", "xay-dung-giao-thong", "lao-dong-tbxh", "kinh-te",
          "van-hoa-xa-hoi")
BACKUP = {"tu-phap-ho-tich": "van-hoa-xa-hoi", "dat-dai-tai-nguyen": "xay-dung-giao-thong",
          "xay-dung-giao-thong": "dat-dai-tai-nguyen", "lao-dong-tbxh": "van-hoa-xa-hoi",
          "kinh-te": "xay-dung-giao-thong", "van-hoa-xa-hoi": "lao-dong-tbxh"}
SHARED_DESKS = (("kinh-te", "van-hoa-xa-hoi"), ("lao-dong-tbxh", "van-hoa-xa-hoi"), ("kinh-te", "lao-dong-tbxh"))
HEAVY = ("tu-phap-ho-tich", "dat-dai-tai-nguyen", "xay-dung-giao-thong", "tu-phap-ho-tich", "dat-dai-tai-nguyen")
LONGER_DAY = ("07:00-11:30", "13:00-17:00")
SATURDAY = ("07:00-11:00",)


def slugify(text: str) -> str:
    """``phường Vị Thanh 1`` -> ``phuong-vi-thanh-1``."""
    text = text.replace("đ", "d").replace("Đ", "D")
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "-".join("".join(c if c.isalnum() else " " for c in ascii_text.lower()).split())


def desks(count: int, rng: random.Random) -> list[list[str]]:
    """``count`` counters, each a list of the fields it serves (its own first): every field has one."""
    singles, shared = list(FIELDS), []
    if count == 5 or rng.random() < 0.5:  # two light fields share one desk
        pair = rng.choice(SHARED_DESKS)
        singles = [f for f in singles if f not in pair]
        shared.append(list(pair))
    plan = [[field] for field in singles] + shared
    plan += [[HEAVY[i % len(HEAVY)]] for i in range(count - len(plan))]
    for desk in plan:
        if len(desk) == 1 and rng.random() < 0.3:
            desk.append(BACKUP[desk[0]])
    return sorted(plan, key=lambda desk: FIELDS.index(desk[0]))


def commune_file(unit: str, province: str, area: str) -> tuple[str, str]:
    """(slug, TOML text) of one commune center."""
    kind, name = unit.split(" ", 1)
    slug = slugify(unit)
    rng = random.Random(slug)
    counters = rng.randint(6, 10) if kind == "phường" else rng.randint(5, 8)
    lines = [
        f"# Trung tâm Phục vụ hành chính công {unit} (thành phố Cần Thơ). Generated by tools/make_city.py:",
        "# address, counters and hours are illustrative. Everything not here comes from _templates/commune.toml.",
        "",
        "[site]",
        'template = "commune"',
        f'slug = "{slug}"',
        f'name = "Trung tâm Phục vụ hành chính công {unit}"',
        f'short_name = "TTPVHCC {unit}"',
        f'address = "Trụ sở Ủy ban nhân dân {unit}, thành phố Cần Thơ"',
        f'groups = ["{province}", "Khu vực {area}"]',
    ]
    if counters >= 9:
        lines.append("wait_alert_s = 1800            # a big hall: alert after 30 min, like the city center")
    roll, hours = rng.random(), []
    if roll < 0.22:
        hours.append("# Longer sessions than the template's 07:00-11:00 / 13:00-17:00.")
        hours += [f'{day} = ["{LONGER_DAY[0]}", "{LONGER_DAY[1]}"]' for day in ("mon", "tue", "wed", "thu", "fri")]
    if 0.12 <= roll < 0.40:
        hours.append(f'sat = ["{SATURDAY[0]}"]  # a Saturday-morning session')
    if hours:
        lines += ["", "[hours]", *hours]
    for number, desk in enumerate(desks(counters, rng), 1):
        served = ", ".join(f'"{field}"' for field in desk)
        lines += ["", "[[counters]]", f'id = "{number}"', "floor = 0", f"agencies = [{served}]"]
    return slug, "\n".join(lines) + "\n"


def city_files() -> dict[str, str]:
    """Relative path -> text of every generated file."""
    files: dict[str, str] = {}
    for province, (folder, areas) in PROVINCES.items():
        for area, units in areas.items():
            for unit in units:
                slug, text = commune_file(unit, province, area)
                files[f"{folder}/{slug}.toml"] = text
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=CITY, help="city folder (default: config/cities/cantho)")
    parser.add_argument("--check", action="store_true", help="compare with the files there, write nothing")
    args = parser.parse_args(argv)
    files = city_files()
    folders = {path.split("/")[0] for path in files}
    present = {str(p.relative_to(args.out)) for f in folders for p in (args.out / f).glob("*.toml")}
    if args.check:
        stale = sorted(present - set(files))
        differ = sorted(p for p, text in files.items()
                        if not (args.out / p).is_file() or (args.out / p).read_text(encoding="utf-8") != text)
        for path in stale + differ:
            print(f"{args.out / path}: {'not made by' if path in stale else 'differs from'} tools/make_city.py")
        return 1 if stale or differ else 0
    for path in present - set(files):
        (args.out / path).unlink()
    for path, text in files.items():
        (args.out / path).parent.mkdir(parents=True, exist_ok=True)
        (args.out / path).write_text(text, encoding="utf-8")
    print(f"{len(files)} commune centers written under {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
