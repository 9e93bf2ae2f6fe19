"""Realistic demo data for a Shanghai field-sales organisation.

Pure and deterministic: every function takes a `random.Random` and draws only from it, so the
same seed always yields the same data. No database access; the demo loader and test factories
decide what to do with the values.
"""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass

from pypinyin import lazy_pinyin

from server.customers.identity import normalize_name

__all__ = [
    "INDUSTRY_CODES",
    "JOB_TITLES",
    "MOBILE_PREFIXES",
    "SCALES",
    "SOURCES",
    "District",
    "address_and_position",
    "company_names",
    "districts",
    "email_for",
    "introduction",
    "job_title",
    "mobile",
    "person_name",
    "scale",
    "source",
    "website_for",
]

# --------------------------------------------------------------------------------------------
# Company names
# --------------------------------------------------------------------------------------------

# Industry code (SPEC R-C5) -> (relative frequency, industry words used in the name).
# Frequencies skew towards the kinds of companies a Shanghai field team meets most.
_INDUSTRIES: dict[str, tuple[int, tuple[str, ...]]] = {
    "video": (3, ("影视传媒", "视频科技", "影业", "数字影像")),
    "games": (3, ("网络游戏", "互动娱乐", "游戏科技", "数字娱乐")),
    "ecommerce_platform": (3, ("电子商务", "电商科技", "网络购物平台")),
    "social": (2, ("社交网络科技", "网络社区", "信息技术")),
    "mobile": (2, ("移动科技", "移动互联网科技", "通信技术")),
    "life_services": (3, ("生活服务", "到家服务", "餐饮管理", "本地生活科技")),
    "online_education": (3, ("教育科技", "在线教育科技", "培训科技")),
    "online_medical": (2, ("互联网医院", "医疗科技", "健康科技")),
    "rendering": (1, ("渲染科技", "数字视觉", "图形技术")),
    "online_other": (2, ("网络科技", "信息服务", "数字科技")),
    "finance": (4, ("投资管理", "融资租赁", "资产管理", "保险经纪", "商业保理")),
    "transport_logistics": (5, ("物流", "供应链管理", "国际货运代理", "运输", "冷链物流")),
    "energy": (3, ("新能源", "能源科技", "光伏科技", "电力工程", "燃气")),
    "media": (3, ("文化传媒", "广告", "传媒", "会展服务")),
    "tech_services": (6, ("信息技术", "软件", "数据服务", "云计算科技", "系统集成")),
    "automotive": (4, ("汽车零部件", "汽车销售服务", "汽车科技", "汽车电子")),
    "real_estate": (3, ("置业", "房地产开发", "物业管理", "商业管理")),
    "robotics_iot": (3, ("机器人", "智能科技", "物联网科技", "自动化设备")),
    "manufacturing_b2b": (7, ("精密机械", "机电设备", "化工", "新材料", "电子", "模具",
                              "阀门", "包装材料")),
    "brand": (4, ("服饰", "化妆品", "食品", "鞋业", "品牌管理")),
    "retailer": (4, ("超市", "商贸", "便利店", "百货")),
    "consumer": (3, ("食品", "日用品", "饮料", "乳业")),
    "home_furnishing": (3, ("家居", "电器", "家具", "厨卫")),
    "manufacturing_b2c": (3, ("电器制造", "日用品制造", "玩具", "箱包")),
    "brand_ecommerce": (2, ("电子商务", "品牌电商", "网络科技")),
    "pharmacy_chain": (2, ("大药房连锁", "医药连锁", "药房")),
    "government": (2, ()),
    "ministry": (1, ()),
    "industrial_park": (1, ()),
    "internet_finance": (2, ("金融信息服务", "支付科技", "金融科技", "网络小额贷款")),
    "other": (6, ("商务咨询", "贸易", "装饰工程", "餐饮", "企业管理咨询", "建筑工程")),
}
INDUSTRY_CODES: tuple[str, ...] = tuple(_INDUSTRIES)

_REGION_PREFIXES = ("上海", "浦东", "苏州", "杭州", "嘉兴", "昆山", "无锡", "宁波", "南通",
                    "太仓", "松江", "嘉定", "闵行")
# Name shapes like 春意（上海）空调有限公司 use these cities in full-width brackets.
_BRACKET_CITIES = ("上海", "苏州", "杭州", "中国")

# Trade names (字号) are two characters: any first + any different second character gives
# ~2,000 plausible, auspicious-sounding names; enough for well over 5,000 distinct companies
# once region, industry word and suffix vary too.
_TRADE_FIRST = "春华鼎云海博恒瑞嘉新金宏信德中佳汇泰安聚光明志卓启润晨锦星长诚富天正合永立美"
_TRADE_SECOND = "意腾盛帆纳远达通源辉科联昌泰丰和宇成信捷邦森澜峰创晟悦隆威凯弘航祥润城"

# Industries whose companies plausibly call themselves 科技.
_TECH_INDUSTRIES = frozenset({
    "video", "games", "ecommerce_platform", "social", "mobile", "online_education",
    "online_medical", "rendering", "online_other", "energy", "tech_services", "automotive",
    "robotics_iot", "manufacturing_b2b", "brand_ecommerce", "internet_finance",
})
_SUFFIXES = ("有限公司", "有限公司", "有限公司", "股份有限公司", "科技有限公司", "集团有限公司")

# Shanghai administrative units for the PUBLIC business line.
_DISTRICT_BUREAUS = ("市场监督管理局", "教育局", "卫生健康委员会", "人力资源和社会保障局",
                     "科学技术委员会", "商务委员会", "规划和自然资源局", "生态环境局",
                     "住房保障和房屋管理局", "民政局", "财政局", "文化和旅游局", "交通委员会",
                     "应急管理局", "城市管理行政执法局", "数据局", "审计局", "统计局",
                     "人民政府办公室", "投资促进办公室")
_MUNICIPAL_COMMISSIONS = ("经济和信息化委员会", "发展和改革委员会", "科学技术委员会",
                          "商务委员会", "教育委员会", "卫生健康委员会", "交通委员会",
                          "住房和城乡建设管理委员会", "农业农村委员会", "财政局", "税务局",
                          "公安局", "民政局", "司法局", "人力资源和社会保障局", "生态环境局",
                          "水务局", "文化和旅游局", "应急管理局", "审计局", "市场监督管理局",
                          "国有资产监督管理委员会", "地方金融监督管理局", "统计局",
                          "医疗保障局", "体育局", "绿化和市容管理局", "大数据中心")
_MUNICIPAL_UNITS = ("", "信息中心", "执法总队", "事务中心", "服务中心", "研究所",
                    "培训中心", "档案馆")
_PARK_PLACES = ("张江", "漕河泾", "金桥", "外高桥", "临港", "紫竹", "莘庄", "市北", "虹桥",
                "安亭", "松江", "青浦", "嘉定", "宝山", "奉贤", "金山", "崇明", "杨浦",
                "大场", "桃浦", "南汇", "康桥", "周浦", "泗泾", "九亭", "华漕", "马陆",
                "南翔", "罗店", "顾村", "南桥", "朱家角", "徐泾", "浦江", "吴泾", "江川")
_PARK_THEMES = ("", "高科技", "生物医药", "人工智能", "集成电路", "新能源汽车", "智能制造",
                "文化创意", "数字经济", "机器人", "新材料", "物流", "电子商务", "软件",
                "时尚", "健康")


def _company_name(rng: random.Random, industry: str) -> str:
    """One candidate name of `industry`; may collide with earlier ones (the caller retries)."""
    if industry == "government":
        district = rng.choice(_DISTRICTS).name
        return f"上海市{district}{rng.choice(_DISTRICT_BUREAUS)}"
    if industry == "ministry":
        return f"上海市{rng.choice(_MUNICIPAL_COMMISSIONS)}{rng.choice(_MUNICIPAL_UNITS)}"
    if industry == "industrial_park":
        place, theme = rng.choice(_PARK_PLACES), rng.choice(_PARK_THEMES)
        return f"上海{place}{theme}产业园管理委员会"

    first = rng.choice(_TRADE_FIRST)
    second = rng.choice(_TRADE_SECOND.replace(first, ""))
    trade = first + second
    word = rng.choice(_INDUSTRIES[industry][1])
    suffix = rng.choice(_SUFFIXES)
    if suffix == "科技有限公司" and (
        industry not in _TECH_INDUSTRIES or word.endswith(("科技", "技术"))
    ):
        suffix = "有限公司"  # no 超市科技 or 科技科技
    if industry == "pharmacy_chain" and suffix != "股份有限公司":
        suffix = "有限公司"  # 大药房连锁集团 reads oddly; keep it simple
    if rng.random() < 0.12:
        # Foreign-invested / branch style: 春意（上海）空调有限公司, with full-width brackets
        # as Chinese registries write them.
        return f"{trade}（{rng.choice(_BRACKET_CITIES)}）{word}{suffix}"
    return f"{rng.choice(_REGION_PREFIXES)}{trade}{word}{suffix}"


def company_names(rng: random.Random, n: int) -> list[tuple[str, str]]:
    """`n` (name, industry_code) pairs whose names are distinct after normalize_name."""
    codes = list(_INDUSTRIES)
    weights = [_INDUSTRIES[c][0] for c in codes]
    seen: set[str] = set()
    result: list[tuple[str, str]] = []
    # Rejection sampling; the bound only trips if n exceeds what the pools can produce.
    attempts_left = 50 * n + 1000
    while len(result) < n:
        if attempts_left == 0:
            raise ValueError(f"cannot generate {n} distinct company names")
        attempts_left -= 1
        industry = rng.choices(codes, weights)[0]
        name = _company_name(rng, industry)
        key = normalize_name(name)
        if key not in seen:
            seen.add(key)
            result.append((name, industry))
    return result


# --------------------------------------------------------------------------------------------
# People
# --------------------------------------------------------------------------------------------

# Roughly in order of frequency; repeats in the weights make common surnames common.
_SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
             "蒋蔡余杜叶程魏苏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦傅方邹孟熊秦邱江尹薛")
_COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛", "东方", "慕容")
_GIVEN_CHARS = ("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红建文辉力婷雪琳"
                "晨浩宇轩子涵欣怡佳俊博文昊然雨彤嘉思梦晓燕海峰鹏飞斌颖凯亮志宏琪慧倩")

MOBILE_PREFIXES: tuple[str, ...] = (
    tuple(f"13{d}" for d in range(10))
    + ("150", "151", "152", "153", "155", "156", "157", "158", "159")
    + tuple(f"18{d}" for d in range(10))
    + ("190", "191", "192", "193", "195", "196", "197", "198", "199")
)

JOB_TITLES: tuple[str, ...] = ("总经理", "副总经理", "董事长", "采购经理", "采购专员", "IT主管",
                               "信息中心主任", "财务总监", "财务经理", "行政经理", "运营总监",
                               "市场总监", "技术总监", "CTO", "项目经理", "主任", "副主任",
                               "科长", "处长", "办公室主任", "总监助理", "法务经理")

# Surnames whose everyday reading differs from the one pypinyin picks for a lone character.
_SURNAME_READINGS = {"曾": "zeng", "单": "shan", "解": "xie", "仇": "qiu", "查": "zha", "区": "ou"}
_MAIL_PROVIDERS = ("163.com", "126.com", "qq.com", "sina.com", "foxmail.com", "139.com")


def person_name(rng: random.Random) -> str:
    """A plausible Chinese personal name (2-4 characters)."""
    if rng.random() < 0.01:
        surname = rng.choice(_COMPOUND_SURNAMES)
    else:
        # Triangular-ish weighting: early (more common) surnames are picked more often.
        surname = _SURNAMES[int(len(_SURNAMES) * rng.random() ** 2)]
    given_len = 1 if rng.random() < 0.3 else 2
    return surname + "".join(rng.choice(_GIVEN_CHARS) for _ in range(given_len))


def mobile(rng: random.Random) -> str:
    """An 11-digit mainland mobile number with a real carrier prefix."""
    return rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"


def job_title(rng: random.Random) -> str:
    return rng.choice(JOB_TITLES)


def email_for(rng: random.Random, person: str, domain: str | None = None) -> str:
    """E-mail for `person` (a Chinese name) at `domain`, or at a public mail provider.

    `domain` may be a bare domain or a website URL such as "https://www.chunyi.com.cn".
    """
    split = 2 if person.startswith(_COMPOUND_SURNAMES) else 1
    surname = _SURNAME_READINGS.get(person[:split]) or (
        "".join(p for p in lazy_pinyin(person[:split]) if p.isascii()) or "user"
    )
    given = "".join(p for p in lazy_pinyin(person[split:]) if p.isascii())
    local = rng.choice(
        [f"{given}.{surname}", f"{surname}{given}", f"{given[:1]}{surname}", f"{surname}.{given}"]
    ).strip(".") or "contact"
    if domain:
        host = re.sub(r"^[a-z]+://", "", domain.strip().lower()).split("/")[0]
        host = host.removeprefix("www.")
    else:
        host = rng.choice(_MAIL_PROVIDERS)
        local += str(rng.randrange(10, 1000))  # public mailboxes are rarely the bare name
    return f"{local}@{host}"


# --------------------------------------------------------------------------------------------
# Places
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class District:
    name: str  # 浦东新区
    code: str  # administrative division code, positions 3-8 of a tax id
    lat: float  # approximate centre
    lng: float
    radius_km: float  # scatter radius for demo positions (outer districts are bigger)
    roads: tuple[str, ...]  # real road names in the district


_DISTRICTS: tuple[District, ...] = (
    District("黄浦区", "310101", 31.231706, 121.484429, 2.5,
             ("南京东路", "淮海中路", "西藏中路", "河南中路", "人民路", "延安东路", "福州路",
              "中山南路", "复兴中路", "九江路")),
    District("徐汇区", "310104", 31.188523, 121.436525, 3.5,
             ("漕溪北路", "肇嘉浜路", "衡山路", "天钥桥路", "宜山路", "虹桥路", "漕宝路",
              "龙华中路", "田林路", "钦州北路")),
    District("长宁区", "310105", 31.220367, 121.424624, 3.0,
             ("延安西路", "遵义路", "仙霞路", "天山路", "长宁路", "中山西路", "古北路",
              "金钟路", "娄山关路", "定西路")),
    District("静安区", "310106", 31.246570, 121.455010, 3.0,
             ("南京西路", "延安中路", "威海路", "江宁路", "共和新路", "大宁路", "万荣路",
              "北京西路", "常德路", "广中西路")),
    District("普陀区", "310107", 31.249618, 121.397516, 3.5,
             ("曹杨路", "真北路", "金沙江路", "中山北路", "武宁路", "长寿路", "大渡河路",
              "桃浦路", "同普路", "光复西路")),
    District("虹口区", "310109", 31.264600, 121.505133, 2.5,
             ("四川北路", "大连路", "东大名路", "四平路", "曲阳路", "中山北一路", "海宁路",
              "东江湾路", "吴淞路", "广粤路")),
    District("杨浦区", "310110", 31.259541, 121.526077, 3.5,
             ("淞沪路", "国定路", "黄兴路", "控江路", "长阳路", "杨树浦路", "军工路", "政立路",
              "国权路", "大连路")),
    District("闵行区", "310112", 31.112813, 121.381709, 6.0,
             ("沪闵路", "七莘路", "虹梅路", "吴中路", "都市路", "剑川路", "紫星路", "申长路",
              "金都路", "莲花南路")),
    District("宝山区", "310113", 31.405457, 121.489612, 6.0,
             ("友谊路", "牡丹江路", "沪太路", "长江西路", "殷高西路", "蕰川路", "淞宝路",
              "上大路", "纬地路", "丰翔路")),
    District("嘉定区", "310114", 31.374740, 121.265300, 7.0,
             ("博乐路", "叶城路", "沪宜公路", "墨玉南路", "曹安公路", "城北路", "胜辛路",
              "洪德路", "裕民南路", "嘉松北路")),
    District("浦东新区", "310115", 31.221517, 121.544379, 9.0,
             ("张杨路", "世纪大道", "陆家嘴环路", "浦东南路", "银城中路", "张江路", "祖冲之路",
              "碧波路", "金科路", "川沙路", "锦绣路", "杨高南路", "东方路", "龙阳路")),
    District("金山区", "310116", 30.741798, 121.341970, 6.0,
             ("卫零路", "龙胜路", "蒙山路", "金山大道", "亭卫公路", "板桥西路", "卫清西路")),
    District("松江区", "310117", 31.032243, 121.227747, 7.0,
             ("中山中路", "人民北路", "荣乐东路", "文诚路", "广富林路", "沪松公路",
              "新松江路", "谷阳北路", "思贤路", "九新公路")),
    District("青浦区", "310118", 31.151209, 121.124178, 7.0,
             ("公园路", "城中北路", "华青南路", "外青松公路", "崧泽大道", "诸光路",
              "盈港东路", "淀山湖大道", "华徐公路")),
    District("奉贤区", "310120", 30.917795, 121.474042, 7.0,
             ("解放东路", "环城东路", "金海公路", "望园路", "南奉公路", "沪杭公路",
              "航南公路", "运河北路", "百齐路")),
    District("崇明区", "310151", 31.623000, 121.397500, 6.0,
             ("八一路", "人民路", "翠竹路", "崇明大道", "东门路", "南门路", "北门路",
              "陈海公路")),
)

_BUILDING_KINDS = ("大厦", "广场", "中心", "国际大厦", "商务中心", "科技园", "创意园", "时代广场",
                   "金融中心", "置地广场")
_KM_PER_DEG_LAT = 111.32


def districts() -> list[District]:
    """All 16 Shanghai districts with approximate centres (WGS-84) and some real roads."""
    return list(_DISTRICTS)


def address_and_position(
    rng: random.Random, district: str | None = None
) -> tuple[str, str, float, float]:
    """(region, address, lat, lng) somewhere in a Shanghai district.

    `district` picks one by name (e.g. "浦东新区"); otherwise one is chosen at random. The
    position is uniform in a disc of the district's radius around its centre (6 decimals,
    about 0.1 m), so maps and distance checks get a realistic spread.
    """
    if district is None:
        d = rng.choice(_DISTRICTS)
    else:
        matches = [x for x in _DISTRICTS if x.name == district]
        if not matches:
            raise ValueError(f"unknown district {district!r}")
        d = matches[0]
    region = f"上海市{d.name}"

    road = rng.choice(d.roads)
    # 公路 are long suburban highways with large house numbers.
    number = rng.randrange(100, 5000) if road.endswith("公路") else rng.randrange(1, 1500)
    address = f"{region}{road}{number}号"
    roll = rng.random()
    if roll < 0.55:
        building = rng.choice(_TRADE_FIRST) + rng.choice(_TRADE_SECOND)
        address += f"{building}{rng.choice(_BUILDING_KINDS)}{rng.randrange(2, 40)}楼"
    elif roll < 0.8:
        address += f"{rng.choice('ABCD')}座{rng.randrange(2, 30)}{rng.randrange(1, 20):02d}室"
    else:
        address += f"{rng.randrange(1, 12)}号楼"

    distance = d.radius_km * math.sqrt(rng.random())  # sqrt: uniform over the disc's area
    bearing = rng.uniform(0.0, 2.0 * math.pi)
    lat = d.lat + distance * math.cos(bearing) / _KM_PER_DEG_LAT
    lng = d.lng + distance * math.sin(bearing) / (_KM_PER_DEG_LAT * math.cos(math.radians(d.lat)))
    return region, address, round(lat, 6), round(lng, 6)


# --------------------------------------------------------------------------------------------
# Other profile fields
# --------------------------------------------------------------------------------------------

SOURCES: tuple[str, ...] = ("展会", "转介绍", "官网咨询", "陌生拜访", "电话营销", "渠道推荐", "老客户")
SCALES: tuple[str, ...] = ("1-19人", "20-99人", "100-499人", "500-999人", "1000人以上")

_GOV_MARKERS = ("局", "委员会", "政府", "办公室", "中心", "总队", "研究所", "档案馆")
_ALL_REGION_PREFIXES = tuple(sorted({"上海市", *_REGION_PREFIXES}, key=len, reverse=True))


def _trade_name(name: str) -> str:
    """Best guess at the 字号 of a generated (or real) company name."""
    text = normalize_name(name)
    text = re.sub(r"\([^)]*\)", "", text)  # 春意(上海)空调 -> 春意空调
    for prefix in _ALL_REGION_PREFIXES:
        if text.startswith(prefix) and len(text) > len(prefix) + 2:
            text = text[len(prefix):]
            break
    return text[:2]


def website_for(rng: random.Random, name: str) -> str:
    """A plausible website URL for a company or public body."""
    if name.endswith(_GOV_MARKERS) and not name.endswith("公司"):
        initials = "".join(p[0] for p in lazy_pinyin(name.removeprefix("上海市")) if p.isascii())
        return f"https://www.{initials[:6].lower() or 'gov'}.sh.gov.cn"
    slug = "".join(p for p in lazy_pinyin(_trade_name(name)) if p.isascii()).lower() or "company"
    style = rng.random()
    if style < 0.15:
        slug = f"sh{slug}"
    elif style < 0.25:
        slug = f"{slug}-group"
    return f"https://www.{slug}{rng.choice(('.com', '.com', '.com.cn', '.cn', '.net'))}"


def source(rng: random.Random) -> str:
    return rng.choice(SOURCES)


def scale(rng: random.Random) -> str:
    return rng.choices(SCALES, weights=(2, 5, 4, 2, 1))[0]


# What each kind of customer does and what it might buy from us (a cloud/IT vendor).
_BUSINESS: dict[str, str] = {
    "video": "短视频与长视频内容制作和分发",
    "games": "移动游戏研发与海外发行",
    "ecommerce_platform": "综合电商平台运营",
    "social": "兴趣社区与社交应用运营",
    "mobile": "移动应用开发与运营",
    "life_services": "本地生活服务平台运营",
    "online_education": "K12与职业在线教育",
    "online_medical": "互联网诊疗与健康管理服务",
    "rendering": "影视动画与建筑可视化渲染",
    "online_other": "互联网信息服务",
    "finance": "资产管理与金融服务",
    "transport_logistics": "城配物流与仓储供应链服务",
    "energy": "分布式光伏与储能项目开发",
    "media": "整合营销与品牌传播",
    "tech_services": "企业软件开发与系统集成",
    "automotive": "汽车零部件研发与制造",
    "real_estate": "商业地产开发与物业运营",
    "robotics_iot": "工业机器人与物联网解决方案",
    "manufacturing_b2b": "工业零部件生产与销售",
    "brand": "自有品牌研发与全渠道销售",
    "retailer": "连锁门店零售",
    "consumer": "快消品生产与销售",
    "home_furnishing": "家居家电产品设计与销售",
    "manufacturing_b2c": "消费品代工与自有品牌制造",
    "brand_ecommerce": "品牌线上旗舰店运营",
    "pharmacy_chain": "连锁药房经营",
    "government": "辖区公共服务与行政管理",
    "ministry": "全市行业管理与政策制定",
    "industrial_park": "园区招商、企业服务与基础设施运营",
    "internet_finance": "支付与金融信息服务",
    "other": "商务服务",
}
_NEEDS = ("计划将核心业务系统迁移上云", "正在评估数据中台建设方案", "有CDN与视频加速需求",
          "关注数据安全与等保合规", "希望降低现有IT运维成本", "计划建设灾备中心",
          "对AI大模型应用有兴趣", "正在选型新的办公协同平台", "年内有服务器扩容预算")
_AREAS = ("上海本地", "长三角地区", "华东地区", "全国", "全国及东南亚")


def introduction(rng: random.Random, name: str, industry: str) -> str:
    """A short customer introduction (≤ 200 characters, SPEC R-C4)."""
    business = _BUSINESS.get(industry, _BUSINESS["other"])
    need = rng.choice(_NEEDS)
    if industry in ("government", "ministry", "industrial_park"):
        text = f"{name}主要负责{business}，{need}，项目需走政府采购流程。"
    else:
        year = rng.randrange(1995, 2024)
        text = (
            f"{name}成立于{year}年，主要从事{business}，业务覆盖{rng.choice(_AREAS)}，"
            f"员工{scale(rng)}。{need}。"
        )
    return text[:200]
