"""Demo data generator: deterministic, distinct, realistic enough for demos and factories."""

from __future__ import annotations

import math
import random
import re

import pytest

from server.customers.identity import generate_tax_id, is_valid_tax_id, normalize_name
from server.demo import data

SPEC_INDUSTRY_CODES = {
    "video", "games", "ecommerce_platform", "social", "mobile", "life_services",
    "online_education", "online_medical", "rendering", "online_other", "finance",
    "transport_logistics", "energy", "media", "tech_services", "automotive", "real_estate",
    "robotics_iot", "manufacturing_b2b", "brand", "retailer", "consumer", "home_furnishing",
    "manufacturing_b2c", "brand_ecommerce", "pharmacy_chain", "government", "ministry",
    "industrial_park", "internet_finance", "other",
}
PUBLIC_INDUSTRIES = {"government", "ministry", "industrial_park"}
MOBILE_RE = re.compile(r"^1(3\d|5[0-35-9]|8\d|9[0-35-9])\d{8}$")


def _haversine_km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(a))


# --------------------------------------------------------------------------------------------
# Company names
# --------------------------------------------------------------------------------------------


def test_industry_codes_match_spec() -> None:
    assert set(data.INDUSTRY_CODES) == SPEC_INDUSTRY_CODES


def test_5000_names_distinct_after_normalization() -> None:
    pairs = data.company_names(random.Random(42), 5000)
    assert len(pairs) == 5000
    assert len({normalize_name(name) for name, _ in pairs}) == 5000
    assert {industry for _, industry in pairs} <= SPEC_INDUSTRY_CODES
    # With 5,000 names every industry shows up.
    assert {industry for _, industry in pairs} == SPEC_INDUSTRY_CODES


def test_names_deterministic_for_a_seed() -> None:
    assert data.company_names(random.Random(7), 300) == data.company_names(random.Random(7), 300)
    assert data.company_names(random.Random(7), 300) != data.company_names(random.Random(8), 300)


def test_name_shapes() -> None:
    for name, industry in data.company_names(random.Random(3), 2000):
        assert re.fullmatch(r"[\u4e00-\u9fff（）]+", name), name
        if industry in PUBLIC_INDUSTRIES:
            assert "公司" not in name, name
            assert name.startswith("上海"), name
        else:
            assert name.endswith("有限公司"), name
            assert "科技科技" not in name, name
        if industry == "industrial_park":
            assert name.endswith("产业园管理委员会"), name
        if industry == "government":
            assert re.fullmatch(r"上海市\w+区\w+", name), name


def test_zero_names() -> None:
    assert data.company_names(random.Random(1), 0) == []


# --------------------------------------------------------------------------------------------
# People
# --------------------------------------------------------------------------------------------


def test_mobiles_valid() -> None:
    rng = random.Random(11)
    numbers = [data.mobile(rng) for _ in range(2000)]
    for number in numbers:
        assert MOBILE_RE.fullmatch(number), number
    assert len(set(numbers)) > 1990
    assert {n[:2] for n in numbers} == {"13", "15", "18", "19"}


def test_person_names() -> None:
    rng = random.Random(12)
    names = [data.person_name(rng) for _ in range(1000)]
    assert all(2 <= len(n) <= 4 and re.fullmatch(r"[\u4e00-\u9fff]+", n) for n in names)
    assert len(set(names)) > 500


def test_job_title_source_scale() -> None:
    rng = random.Random(13)
    for _ in range(200):
        assert data.job_title(rng) in data.JOB_TITLES
        assert data.source(rng) in data.SOURCES
        assert data.scale(rng) in data.SCALES
    assert "展会" in data.SOURCES and "老客户" in data.SOURCES
    assert "1000人以上" in data.SCALES


def test_email_for() -> None:
    rng = random.Random(14)
    email = data.email_for(rng, "张伟", "https://www.chunyi.com.cn/")
    assert email.endswith("@chunyi.com.cn")
    assert re.fullmatch(r"[a-z.]+@chunyi\.com\.cn", email), email
    assert "zhang" in email and "wei" in email
    public = data.email_for(rng, "欧阳娜")
    assert re.fullmatch(r"[a-z.]+\d+@[a-z0-9]+\.com", public), public
    assert "ouyang" in public
    assert "zeng" in data.email_for(rng, "曾小明", "example.com")


# --------------------------------------------------------------------------------------------
# Places
# --------------------------------------------------------------------------------------------


def test_districts() -> None:
    ds = data.districts()
    names = {d.name for d in ds}
    assert {"黄浦区", "徐汇区", "长宁区", "静安区", "普陀区", "虹口区", "杨浦区", "闵行区",
            "宝山区", "嘉定区", "浦东新区", "松江区", "青浦区", "奉贤区"} <= names
    assert len(names) == len(ds)
    for d in ds:
        # Shanghai spans roughly 30.7-31.9 N, 120.8-122.0 E.
        assert 30.6 < d.lat < 31.9 and 120.8 < d.lng < 122.0, d.name
        assert re.fullmatch(r"310\d{3}", d.code)
        assert d.roads
    # Sanity: 浦东新区 is east of 黄浦区, 宝山区 north of 闵行区.
    by_name = {d.name: d for d in ds}
    assert by_name["浦东新区"].lng > by_name["黄浦区"].lng
    assert by_name["宝山区"].lat > by_name["闵行区"].lat


def test_positions_near_district_centre() -> None:
    centres = {f"上海市{d.name}": d for d in data.districts()}
    rng = random.Random(15)
    seen_regions = set()
    for _ in range(3000):
        region, address, lat, lng = data.address_and_position(rng)
        d = centres[region]
        seen_regions.add(region)
        assert address.startswith(region)
        assert any(road in address for road in d.roads), address
        assert re.search(r"\d+号", address), address
        assert _haversine_km(lat, lng, d.lat, d.lng) <= 15.0, (region, lat, lng)
        assert round(lat, 6) == lat and round(lng, 6) == lng
    assert seen_regions == set(centres)


def test_address_for_named_district() -> None:
    region, _, lat, lng = data.address_and_position(random.Random(16), "浦东新区")
    assert region == "上海市浦东新区"
    with pytest.raises(ValueError):
        data.address_and_position(random.Random(16), "不存在区")


def test_addresses_deterministic() -> None:
    a = [data.address_and_position(random.Random(17)) for _ in range(5)]
    assert a == [data.address_and_position(random.Random(17)) for _ in range(5)]


def test_district_codes_make_valid_tax_ids() -> None:
    rng = random.Random(18)
    for d in data.districts():
        code = generate_tax_id(rng, d.code)
        assert is_valid_tax_id(code) and code[2:8] == d.code


# --------------------------------------------------------------------------------------------
# Profile text
# --------------------------------------------------------------------------------------------


def test_websites() -> None:
    rng = random.Random(19)
    for name, _ in data.company_names(random.Random(19), 500):
        url = data.website_for(rng, name)
        assert re.fullmatch(r"https://www\.[a-z0-9.-]+\.(com|cn|net)", url), (name, url)
    assert "chunyi" in data.website_for(rng, "上海春意空调有限公司")
    assert "chunyi" in data.website_for(rng, "春意（上海）空调有限公司")
    assert data.website_for(rng, "上海市浦东新区教育局").endswith(".gov.cn")


def test_introductions_short_and_mention_the_customer() -> None:
    rng = random.Random(20)
    for name, industry in data.company_names(random.Random(20), 500):
        text = data.introduction(rng, name, industry)
        assert 0 < len(text) <= 200
        assert name in text
    long_name = "上海" + "很长" * 120 + "有限公司"
    assert len(data.introduction(rng, long_name, "other")) <= 200
