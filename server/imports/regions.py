"""Which region texts an import accepts: those that start with a province-level division of
China (省, 直辖市, 自治区, 特别行政区), in full or short form — "上海市黄浦区", "江苏苏州",
"广西壮族自治区南宁市". The app keeps regions as free text; an import must not bring in rows whose
region no report could ever group ("华东", "", "N/A")."""
from __future__ import annotations

import unicodedata

# (short name, full name)
PROVINCES: tuple[tuple[str, str], ...] = (
    ("北京", "北京市"), ("天津", "天津市"), ("上海", "上海市"), ("重庆", "重庆市"),
    ("河北", "河北省"), ("山西", "山西省"), ("辽宁", "辽宁省"), ("吉林", "吉林省"), ("黑龙江", "黑龙江省"),
    ("江苏", "江苏省"), ("浙江", "浙江省"), ("安徽", "安徽省"), ("福建", "福建省"), ("江西", "江西省"),
    ("山东", "山东省"), ("河南", "河南省"), ("湖北", "湖北省"), ("湖南", "湖南省"), ("广东", "广东省"),
    ("海南", "海南省"), ("四川", "四川省"), ("贵州", "贵州省"), ("云南", "云南省"), ("陕西", "陕西省"),
    ("甘肃", "甘肃省"), ("青海", "青海省"), ("台湾", "台湾省"),
    ("内蒙古", "内蒙古自治区"), ("广西", "广西壮族自治区"), ("西藏", "西藏自治区"),
    ("宁夏", "宁夏回族自治区"), ("新疆", "新疆维吾尔自治区"),
    ("香港", "香港特别行政区"), ("澳门", "澳门特别行政区"),
)
_PREFIXES = tuple(sorted({name for pair in PROVINCES for name in pair}, key=len, reverse=True))


def region_known(text: str) -> bool:
    region = "".join(unicodedata.normalize("NFKC", text or "").split())
    return region.startswith(_PREFIXES)
