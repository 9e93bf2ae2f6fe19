"""Default settings of the SPEC; an admin may change every one of them."""
from __future__ import annotations

# (code, name_zh, name_en, business_line, also followed by) — SPEC R-C5
DEFAULT_INDUSTRIES: list[tuple[str, str, str, str, list[str]]] = [
    ("video", "视频", "Video", "INTERNET", []),
    ("games", "游戏", "Games", "INTERNET", []),
    ("ecommerce_platform", "电商平台", "E-commerce platforms", "INTERNET", []),
    ("social", "社交", "Social", "INTERNET", []),
    ("mobile", "移动互联网", "Mobile", "INTERNET", []),
    ("life_services", "生活服务", "Life services", "INTERNET", []),
    ("online_education", "在线教育", "Online education", "INTERNET", []),
    ("online_medical", "在线医疗", "Online medical", "INTERNET", []),
    ("rendering", "渲染", "Rendering", "INTERNET", []),
    ("online_other", "其他在线服务", "Other online services", "INTERNET", []),
    ("finance", "金融", "Finance", "KA", []),
    ("transport_logistics", "交通物流", "Transport & logistics", "KA", []),
    ("energy", "能源", "Energy", "KA", []),
    ("media", "传媒", "Media", "KA", []),
    ("tech_services", "科技服务", "Tech services", "KA", []),
    ("automotive", "汽车", "Automotive", "KA", []),
    ("real_estate", "地产", "Real estate", "KA", []),
    ("robotics_iot", "机器人/物联网", "Robotics / IoT", "KA", []),
    ("manufacturing_b2b", "B2B制造", "B2B manufacturing", "KA", []),
    ("brand", "品牌", "Brands", "RETAIL", []),
    ("retailer", "零售商", "Retailers", "RETAIL", []),
    ("consumer", "消费", "Consumer", "RETAIL", []),
    ("home_furnishing", "家居家电", "Home furnishing & appliances", "RETAIL", []),
    ("manufacturing_b2c", "B2C制造", "B2C manufacturing", "RETAIL", []),
    ("brand_ecommerce", "品牌电商", "Brand e-commerce", "RETAIL", []),
    ("pharmacy_chain", "连锁药房", "Pharmacy chains", "RETAIL", []),
    ("government", "政府", "Government", "PUBLIC", []),
    ("ministry", "部委", "Ministries", "PUBLIC", []),
    ("industrial_park", "产业园区", "Industrial parks", "PUBLIC", []),
    ("internet_finance", "互联网金融", "Internet finance", "KA", ["INTERNET"]),
    ("other", "其他", "Other", "SMB", []),
]

DEFAULT_EMPTY_PHRASES = ["没找到人", "外出", "沟通", "联系了", "打电话", "未接通", "在忙"]

DEFAULT_EDITORS = ["photoshop", "gimp", "lightroom", "snapseed", "picsart", "美图", "meitu", "醒图",
                   "pixlr", "affinity", "capture one", "vsco", "faceu", "b612", "polarr", "paint.net"]


def default_settings() -> dict:
    return {
        "timezone": "Asia/Shanghai",
        "quotas": {"KA": 50, "INTERNET": 50, "RETAIL": 50, "PUBLIC": None, "SMB": None},
        "cooldown_days": 3,
        "reclaim": {
            "default_days": 90,
            "by_status": {"potential": 90, "intent": 90, "signed": 90, "lost": 90},
            "warning_days": 7,
        },
        "handover_grace_days": 7,
        "invalid_tracking": {"max_invalid_follow_ups": 3, "no_valid_follow_up_days": 15,
                             "no_key_contact_days": 30},
        "follow_up": {"min_chars": 8, "empty_phrases": list(DEFAULT_EMPTY_PHRASES)},
        "verification": {
            "time_mismatch_s": 900,
            "future_capture_s": 300,
            "far_from_customer_min_m": 200,
            "far_from_customer_max_m": 1000,
            "location_inconsistent_m": 1000,
            "photo_similar_bits": 6,
            "photo_similar_days": 180,
            "edited_gap_s": 60,
            "clock_disagreement_s": 300,
            "editor_software": list(DEFAULT_EDITORS),
        },
        "grades": {"important_amount_fen": 100_000_000, "important_years": 3,
                   "stable_amount_fen": 30_000_000, "stable_years": 2},
        "login": {"max_failures": 5, "lock_minutes": 15},
        "industries": [
            {"code": c, "name_zh": zh, "name_en": en, "business_line": line, "also_lines": also}
            for c, zh, en, line, also in DEFAULT_INDUSTRIES
        ],
    }
