"""Customer import (SPEC R-I1) with real xlsx and csv files: the template, the dry run's report
of every row's problems with the row numbers Excel shows, all-or-nothing, valid-only, repeated
uploads, and who may import into whose hands."""
from __future__ import annotations

import io
import uuid

import openpyxl
import pytest
from helpers import error_of, ok, set_settings
from import_helpers import HEADER, TEMPLATE_URL, URL, by_row, codes, csv_bytes, row, upload, xlsx
from sqlalchemy import func, select


@pytest.fixture
def org(factory):
    """A KA department with its manager and two reps, a sub-department with one rep, and a
    second KA department (another manager's) with one rep."""
    east = factory.department("华东KA一部", line="KA")
    sub = factory.department("华东KA一部-苏州组", parent=east)
    other = factory.department("华南KA二部", line="KA")
    users = {
        "manager": factory.user("manager", department=east, username="wang.manager", display_name="王经理"),
        "zhang": factory.user("rep", department=east, username="zhangsan", display_name="张三"),
        "li": factory.user("rep", department=east, username="lisi", display_name="李四"),
        "sub_rep": factory.user("rep", department=sub, username="suzhou.rep", display_name="苏州业务员"),
        "other_manager": factory.user("manager", department=other, username="chen.manager", display_name="陈经理"),
        "outsider": factory.user("rep", department=other, username="outsider", display_name="华南业务员"),
        "admin": factory.user("admin", department=factory.department("系统管理", line="SMB"), username="root.admin"),
        "ops": factory.user("ops", department=factory.department("商务支持", line="SMB"), username="ops.user"),
    }
    return users


def _tax_id(factory) -> str:
    return factory.customer_args()["tax_id"]


def _bad_check_char(tax_id: str) -> str:
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    return tax_id[:17] + alphabet[(alphabet.index(tax_id[17]) + 1) % len(alphabet)]


def _count(db_ctx, model=None, **where) -> int:
    from server.customers.models import Customer

    model = model or Customer
    with db_ctx() as session:
        query = select(func.count()).select_from(model)
        for key, value in where.items():
            query = query.where(getattr(model, key) == value)
        return session.scalar(query)


def _customer(db_ctx, customer_id):
    from server.customers.models import Customer

    with db_ctx() as session:
        customer = session.get(Customer, uuid.UUID(customer_id))
        session.expunge(customer)
        return customer


# ---- the template ---------------------------------------------------------------------------

def test_xlsx_template_has_the_chinese_headers_notes_and_industries(client, factory, org):
    response = client.get(TEMPLATE_URL, headers=factory.headers(org["manager"]))
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    workbook = openpyxl.load_workbook(io.BytesIO(response.data))
    assert workbook.sheetnames == ["客户", "填写说明", "行业"]
    header = [cell.value for cell in workbook["客户"][1]]
    assert header == HEADER
    assert workbook["客户"].max_row == 1  # no example row that could be imported by mistake
    industries = {r[0]: r[1] for r in workbook["行业"].iter_rows(min_row=2, values_only=True)}
    assert industries["finance"] == "金融" and industries["other"] == "其他"


def test_csv_template_is_utf8_with_a_bom_for_excel(client, factory, org):
    response = client.get(f"{TEMPLATE_URL}?format=csv", headers=factory.headers(org["admin"]))
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.data.startswith(b"\xef\xbb\xbf")
    assert response.data.decode("utf-8-sig").strip().split(",") == HEADER


def test_bad_template_format_422(client, factory, org):
    error_of(client.get(f"{TEMPLATE_URL}?format=xls", headers=factory.headers(org["manager"])), 422,
             "validation_failed")


def test_the_downloaded_template_filled_in_imports(client, factory, org, db_ctx):
    headers = factory.headers(org["manager"])
    workbook = openpyxl.load_workbook(io.BytesIO(client.get(TEMPLATE_URL, headers=headers).data))
    sheet = workbook["客户"]
    sheet.append(row(name="模板回填测试金融有限公司", owner="zhangsan", contact_name="周经理", contact_title="财务总监",
                     contact_mobile=13912345678))  # a mobile typed as a number, as Excel keeps it
    out = io.BytesIO()
    workbook.save(out)
    report = ok(upload(client, headers, out.getvalue(), mode="all_or_nothing"), (201,))
    assert report["imported"] == 1 and report["rows"][0]["row"] == 2
    customer = _customer(db_ctx, report["rows"][0]["customer_id"])
    from server.customers.models import Contact

    with db_ctx() as session:
        contact = session.scalars(select(Contact).where(Contact.customer_id == customer.id)).one()
        assert (contact.name, contact.title, contact.mobile) == ("周经理", "财务总监", "13912345678")


# ---- the dry run ------------------------------------------------------------------------------

def test_dry_run_lists_every_problem_row_with_its_codes_and_writes_nothing(client, factory, org, db_ctx):
    existing = factory.customer(org["li"], name="上海已有客户金融有限公司")
    set_settings(factory.app, {"quotas": {"KA": 2}})
    factory.customer(org["zhang"], name="张三已有一家金融有限公司")  # zhang owns 1 of 2
    good_tax = _tax_id(factory)
    rows = [
        row(name="上海新客户一号金融有限公司", owner="zhangsan", tax_id=good_tax),              # 2 ok (zhang: 2 of 2)
        row(name="上海　已有客户 金融有限公司", owner="lisi"),                                       # 3 duplicate (R-C1 forms)
        row(name="上海新客户一号金融有限公司", owner="lisi"),                                    # 4 same name as row 2
        row(name="上海新客户二号金融有限公司", tax_id=_bad_check_char(_tax_id(factory))),          # 5 bad check char
        row(name="上海新客户三号有限公司", industry="区块链"),                                   # 6 unknown industry
        row(name="上海新客户四号金融有限公司", owner="nobody"),                                 # 7 unknown owner
        row(name="上海新客户五号金融有限公司", region=""),                                      # 8 empty region
        row(name="上海新客户六号金融有限公司", region="华东大区"),                                # 9 unknown region
        row(name="上海新客户七号金融有限公司", type="", address=""),                            # 10 missing fields
        [],                                                                               # 11 blank line
        row(name="上海新客户八号金融有限公司", owner="zhangsan"),                                # 12 over zhang's quota
        row(name="上海新客户九号有限公司", industry="video", type="渠道", tax_id=good_tax),         # 13 same tax id as 2
        row(name="上海新客户十号有限公司", industry="其他", status="意向", lat="31.2", lng="121.5"),  # 14 ok, SMB pool
    ]
    before = _count(db_ctx)
    report = ok(upload(client, factory.headers(org["manager"]), xlsx(rows)))
    assert report["mode"] == "dry_run" and report["imported"] == 0
    lines = by_row(report)
    assert sorted(lines) == [2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 13, 14]  # the blank line 11 is no row
    assert codes(lines[2]) == set() and lines[2]["status"] == "ok"
    assert codes(lines[3]) == {("name", "duplicate_customer")}
    assert existing.code in lines[3]["problems"][0]["message"]
    assert codes(lines[4]) == {("name", "duplicate_in_file")} and "row 2" in lines[4]["problems"][0]["message"]
    assert codes(lines[5]) == {("tax_id", "invalid_tax_id")}
    assert "check_character" in lines[5]["problems"][0]["message"]
    assert codes(lines[6]) == {("industry", "unknown_industry")}
    assert codes(lines[7]) == {("owner", "unknown_owner")}
    assert codes(lines[8]) == {("region", "required")}
    assert codes(lines[9]) == {("region", "unknown_region")}
    assert codes(lines[10]) == {("type", "required"), ("address", "required")}
    assert codes(lines[12]) == {("owner", "quota_exceeded")}
    assert codes(lines[13]) == {("tax_id", "duplicate_in_file")}
    assert codes(lines[14]) == set()
    assert (report["total"], report["valid"], report["invalid"]) == (12, 2, 10)
    assert {line["status"] for n, line in lines.items() if n not in (2, 14)} == {"error"}
    assert _count(db_ctx) == before


def test_duplicate_of_a_voided_or_pooled_customer_by_tax_id(client, factory, org, db_ctx):
    tax_id = _tax_id(factory)
    existing = factory.customer(org["li"], name="作废客户金融有限公司", tax_id=tax_id)
    with factory.ctx():
        from server.customers.service import void_customer
        from server.extensions import db
        from server.org.models import User

        void_customer(existing.id, db.session.get(User, org["manager"].id), "录入错误")
    lowered = tax_id.lower()  # typed in lower case with spaces: R-C1 still sees the same code
    report = ok(upload(client, factory.headers(org["manager"]),
                       xlsx([row(name="另一个名字金融有限公司", tax_id=f" {lowered[:6]} {lowered[6:]} ")])))
    assert codes(report["rows"][0]) == {("tax_id", "duplicate_customer")}


def test_field_rules_are_the_apps(client, factory, org):
    report = ok(upload(client, factory.headers(org["manager"]), xlsx([
        row(name="字段规则金融有限公司", postcode="2000", contact_name="赵六", contact_mobile="call me",
            status="成交", lat="north", lng="121"),
        row(name="单", type="直客"),
    ])))
    lines = by_row(report)
    assert codes(lines[2]) == {("postcode", "invalid_value"), ("contact_mobile", "invalid_value"),
                               ("status", "invalid_value"), ("lat", "invalid_value")}
    assert ("name", "invalid_value") in codes(lines[3])


# ---- all or nothing / valid only ------------------------------------------------------------------

def _mixed(factory) -> list[list]:
    return [
        row(name="导入甲金融有限公司", owner="zhangsan", contact_name="甲联系人", contact_mobile="13800000001"),
        row(name="导入乙有限公司", industry="其他", contact_name="乙联系人"),  # no owner: SMB → the public pool
        row(name="导入丙有限公司", industry="区块链"),  # bad
        row(name="导入丁金融有限公司", owner="suzhou.rep", tax_id=_tax_id(factory)),
        row(name="导入戊金融有限公司"),  # no owner: KA → the KA pool
    ]


def test_all_or_nothing_writes_nothing_when_one_row_is_bad(client, factory, org, db_ctx):
    from server.common.audit import AuditEntry

    headers, data = factory.headers(org["manager"]), xlsx(_mixed(factory))  # (signing in is audited)
    before, audits = _count(db_ctx), _count(db_ctx, AuditEntry)
    error = error_of(upload(client, headers, data, mode="all_or_nothing"), 422, "import_rejected")
    report = error["details"]
    assert report["mode"] == "all_or_nothing" and report["imported"] == 0
    assert codes(by_row(report)[4]) == {("industry", "unknown_industry")}
    assert {line["status"] for line in report["rows"]} == {"ok", "error"}
    assert _count(db_ctx) == before and _count(db_ctx, AuditEntry) == audits


def test_all_or_nothing_imports_every_row_when_all_are_clean(client, factory, org, db_ctx):
    rows = [line for line in _mixed(factory) if "区块链" not in line]
    report = ok(upload(client, factory.headers(org["manager"]), csv_bytes(rows), mode="all_or_nothing",
                       filename="customers.csv"), (201,))
    assert report["imported"] == 4 and [line["row"] for line in report["rows"]] == [2, 3, 4, 5]
    assert {line["status"] for line in report["rows"]} == {"imported"}


def test_valid_only_imports_exactly_the_good_rows_like_the_app_does(client, factory, org, db_ctx):
    from server.common.audit import AuditEntry
    from server.customers.models import Contact, Customer
    from server.pools.models import ClaimCooldown

    before = _count(db_ctx)
    report = ok(upload(client, factory.headers(org["manager"]), xlsx(_mixed(factory)), mode="valid_only"), (201,))
    lines = by_row(report)
    assert report["imported"] == 4 and report["invalid"] == 1
    assert lines[4]["status"] == "error" and "customer_id" not in lines[4]
    assert _count(db_ctx) == before + 4
    with db_ctx() as session:
        made = {c.name: c for c in session.scalars(select(Customer).where(
            Customer.id.in_([uuid.UUID(lines[n]["customer_id"]) for n in (2, 3, 5, 6)])))}
        assert set(made) == {"导入甲金融有限公司", "导入乙有限公司", "导入丁金融有限公司", "导入戊金融有限公司"}
        jia, yi, ding, wu = (made[n] for n in ("导入甲金融有限公司", "导入乙有限公司", "导入丁金融有限公司", "导入戊金融有限公司"))
        # codes, owners and pools as the app gives them
        assert all(c.code and c.code.startswith("C20") and len(c.code) == 11 for c in made.values())
        assert jia.owner_id == org["zhang"].id and jia.pool is None
        assert ding.owner_id == org["sub_rep"].id  # a rep of the manager's sub-department
        assert (yi.owner_id, yi.pool.value, yi.origin_pool.value) == (None, "public", "public")
        assert (wu.owner_id, wu.pool.value, wu.origin_pool.value) == (None, "KA", "KA")
        assert session.scalar(select(func.count()).select_from(ClaimCooldown).where(
            ClaimCooldown.user_id == org["manager"].id)) == 0
        contact = session.scalars(select(Contact).where(Contact.customer_id == jia.id)).one()
        assert (contact.name, contact.mobile) == ("甲联系人", "13800000001")
        assert session.scalars(select(Contact.name).where(Contact.customer_id == yi.id)).all() == ["乙联系人"]
        # audit: the app's own creation entry, with the request's channel, and who imported it
        entries = session.scalars(select(AuditEntry).where(AuditEntry.entity_id == str(jia.id))
                                  .order_by(AuditEntry.id)).all()
        assert [e.action for e in entries] == ["customer.create", "customer.import"]
        assert session.scalars(select(AuditEntry.action).where(AuditEntry.entity_id == str(contact.id))).all() == \
            ["contact.create"]
        assert {e.channel for e in entries} == {"api"}
        assert entries[-1].actor_id == org["manager"].id
        pooled = [e.action for e in session.scalars(select(AuditEntry).where(AuditEntry.entity_id == str(wu.id)))]
        assert pooled == ["customer.create", "customer.import"]
        log = session.scalars(select(AuditEntry).where(AuditEntry.action == "customers.import")).one()
        assert log.actor_id == org["manager"].id and log.changes["imported"] == [None, 4]
    # the owner sees the imported customer as one of theirs
    mine = ok(client.get("/api/v1/customers", headers=factory.headers(org["zhang"])))
    assert "导入甲金融有限公司" in {c["name"] for c in mine["items"]}


def test_a_second_upload_of_the_same_file_reports_duplicates_and_makes_no_doubles(client, factory, org, db_ctx):
    headers = factory.headers(org["manager"])
    data = xlsx(_mixed(factory))
    first = ok(upload(client, headers, data, mode="valid_only"), (201,))
    count = _count(db_ctx)
    for mode in ("dry_run", "valid_only"):
        again = ok(upload(client, headers, data, mode=mode))
        assert again["imported"] == 0
        lines = by_row(again)
        for n in (2, 3, 5, 6):
            assert first["rows"][[r["row"] for r in first["rows"]].index(n)]["status"] == "imported"
            assert lines[n]["status"] == "error"
            assert codes(lines[n]) & {("name", "duplicate_customer"), ("tax_id", "duplicate_customer")}
    error_of(upload(client, headers, data, mode="all_or_nothing"), 422, "import_rejected")
    assert _count(db_ctx) == count


def test_quota_counts_the_file_and_what_the_owner_owns(client, factory, org, db_ctx):
    set_settings(factory.app, {"quotas": {"KA": 3}})
    factory.customer(org["li"], name="李四已有金融有限公司")
    rows = [row(name=f"配额导入{i}号金融有限公司", owner="lisi") for i in range(4)] + \
        [row(name="配额外小微有限公司", owner="lisi", industry="other")]  # SMB: no quota
    report = ok(upload(client, factory.headers(org["manager"]), xlsx(rows), mode="valid_only"), (201,))
    assert [line["status"] for line in report["rows"]] == ["imported", "imported", "error", "error", "imported"]
    assert codes(report["rows"][2]) == {("owner", "quota_exceeded")}


# ---- who may import into whose hands ----------------------------------------------------------------

def test_reps_and_ops_get_403(client, factory, org):
    data = xlsx([row(name="业务员导入金融有限公司", owner="zhangsan")])
    for who in ("zhang", "ops"):
        headers = factory.headers(org[who])
        error_of(upload(client, headers, data, mode="valid_only"), 403, "not_authorized")
        error_of(client.get(TEMPLATE_URL, headers=headers), 403, "not_authorized")
    error_of(client.get(TEMPLATE_URL), 401, "unauthenticated")


def test_a_manager_cannot_import_to_an_owner_outside_their_subtree(client, factory, org, db_ctx):
    before = _count(db_ctx)
    data = xlsx([row(name="跨部门导入金融有限公司", owner="outsider"),
                 row(name="导给别的经理金融有限公司", owner="chen.manager"),
                 row(name="导给运营金融有限公司", owner="ops.user")])
    error = error_of(upload(client, factory.headers(org["manager"]), data, mode="all_or_nothing"), 422,
                     "import_rejected")
    lines = by_row(error["details"])
    assert codes(lines[2]) == {("owner", "owner_not_managed")}
    assert codes(lines[3]) == {("owner", "owner_not_managed")}
    assert codes(lines[4]) == {("owner", "owner_not_allowed")}
    assert _count(db_ctx) == before
    # the other manager may import to their own rep, and an admin to anyone's
    ok(upload(client, factory.headers(org["other_manager"]), xlsx([row(name="跨部门导入金融有限公司", owner="outsider")]),
              mode="all_or_nothing"), (201,))
    ok(upload(client, factory.headers(org["admin"]), xlsx([row(name="管理员导入金融有限公司", owner="lisi")]),
              mode="all_or_nothing"), (201,))


def test_an_inactive_owner_is_refused(client, factory, org):
    from helpers import set_fields
    from server.org.models import User

    set_fields(factory.app, User, org["li"].id, active=False)
    report = ok(upload(client, factory.headers(org["manager"]), xlsx([row(name="离职负责人金融有限公司", owner="lisi")])))
    assert codes(report["rows"][0]) == {("owner", "owner_inactive")}


# ---- files -----------------------------------------------------------------------------------------

def test_english_headers_and_gb18030_csv_are_read(client, factory, org):
    english = ["name", "type", "industry", "region", "address", "Owner Username", "contact_name", "Contact Mobile"]
    data = csv_bytes([["英文表头金融有限公司", "direct", "finance", "江苏省苏州市", "星湖街1号", "zhangsan", "钱七",
                       "13700000000"]], header=english, encoding="gb18030")
    report = ok(upload(client, factory.headers(org["manager"]), data, filename="export.csv"))
    assert report["valid"] == 1, report


def test_unknown_or_missing_columns_are_refused(client, factory, org):
    headers = factory.headers(org["manager"])
    error = error_of(upload(client, headers, xlsx([["甲公司"]], header=HEADER + ["联系人电邮地址"])), 422,
                     "invalid_template")
    assert error["details"]["unknown_columns"] == ["联系人电邮地址"]
    error = error_of(upload(client, headers, xlsx([["甲公司"]], header=["客户名称", "行业"])), 422, "invalid_template")
    assert set(error["details"]["missing_columns"]) == {"客户类型", "区域", "地址"}


@pytest.mark.parametrize("data, name", [
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "customers.pdf"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512, "customers.xls"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "customers.png"),
])
def test_other_files_415(client, factory, org, db_ctx, data, name):
    before = _count(db_ctx)
    error_of(upload(client, factory.headers(org["manager"]), data, mode="valid_only", filename=name), 415,
             "unsupported_media_type")
    assert _count(db_ctx) == before


def test_a_zip_that_is_not_a_workbook_415_and_a_broken_one_422(client, factory, org):
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("photo.jpg", b"\xff\xd8\xff")
    headers = factory.headers(org["manager"])
    error_of(upload(client, headers, out.getvalue()), 415, "unsupported_media_type")
    error_of(upload(client, headers, xlsx([row(name="截断文件金融有限公司")])[:300]), 422, "invalid_file")


def test_an_xml_entity_bomb_in_a_workbook_is_refused(client, factory, org):
    import zipfile

    source = zipfile.ZipFile(io.BytesIO(xlsx([row(name="实体炸弹金融有限公司")])))
    entities = "".join(f'<!ENTITY e{i} "{"&e%d;" % (i - 1) * 10}">' for i in range(1, 10))
    bomb = (f'<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY e0 "laugh">{entities}]>'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
            '<row r="1"><c r="A1" t="inlineStr"><is><t>&e9;</t></is></c></row></sheetData></worksheet>')
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for member in source.infolist():
            archive.writestr(member, bomb if member.filename == "xl/worksheets/sheet1.xml" else source.read(member))
    error = error_of(upload(client, factory.headers(org["manager"]), out.getvalue()), 422, "invalid_file")
    assert error["details"]["reason"] == "EntitiesForbidden"  # defusedxml said no, nothing was expanded


def test_not_multipart_415_no_file_422_too_big_413(client, factory, org):
    headers = factory.headers(org["manager"])
    error_of(client.post(URL, headers=headers, json={"mode": "dry_run"}), 415, "unsupported_media_type")
    error_of(client.post(URL, headers=headers, content_type="multipart/form-data", data={"mode": "dry_run"}), 422,
             "validation_failed")
    error_of(upload(client, headers, xlsx([row(name="模式错误金融有限公司")]), mode="everything"), 422,
             "validation_failed")
    big = b"x" * (5 * 1024 * 1024 + 1)
    error_of(upload(client, headers, big), 413, "payload_too_large")
    error_of(upload(client, headers, b""), 422, "invalid_file")


def test_blank_lines_keep_row_numbers_and_do_not_count_toward_the_limit(client, factory, org):
    data = csv_bytes([row(name="空行之前金融有限公司")] + [[""] * len(HEADER)] * 3000 + [row(name="空行之后金融有限公司")])
    report = ok(upload(client, factory.headers(org["manager"]), data, filename="blank.csv"))
    assert [line["row"] for line in report["rows"]] == [2, 3003] and report["valid"] == 2


def test_too_many_rows_422(client, factory, org):
    lines = [row(name=f"批量{i}号金融有限公司") for i in range(2001)]
    error = error_of(upload(client, factory.headers(org["manager"]), csv_bytes(lines), filename="big.csv"), 422,
                     "too_many_rows")
    assert error["details"]["limit"] == 2000


# ---- afterwards, imported customers behave like the app's ---------------------------------------------

def test_imported_customers_reach_their_owner_only_and_pool_ones_the_pool(client, factory, org):
    from helpers import Phone

    report = ok(upload(client, factory.headers(org["manager"]), xlsx([
        row(name="同步到手机金融有限公司", owner="zhangsan", contact_name="孙经理", contact_mobile="13600000000"),
        row(name="进入公海的金融有限公司"),
    ]), mode="valid_only"), (201,))
    owned_id, pooled_id = (line["customer_id"] for line in report["rows"])
    zhang = Phone(client, factory, org["zhang"])
    zhang.pull()
    assert zhang.has("customer", owned_id)
    assert zhang.data("customer", owned_id)["code"].startswith("C20")
    li = Phone(client, factory, org["li"])  # another rep of the same department
    li.pull()
    assert not li.has("customer", owned_id) and not li.has("customer", pooled_id)
    error_of(client.get(f"/api/v1/customers/{owned_id}", headers=li.headers), 404, "not_found")
    # the KA pool shows the unowned one to a KA rep, who may claim it like any pool customer
    page = ok(client.get("/api/v1/pools/KA/customers", headers=li.headers))
    assert pooled_id in {item["id"] for item in page["items"]}
    claim = li.push("customer.claim", {"customer_id": pooled_id})
    assert claim["status"] == "applied", claim
