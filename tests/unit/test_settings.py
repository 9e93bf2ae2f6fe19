"""Settings defaults, validation and merging, without a database."""
from __future__ import annotations

import pytest
from marshmallow import ValidationError

from server.settings.defaults import DEFAULT_INDUSTRIES, default_settings
from server.settings.schemas import SettingsSchema
from server.settings.service import SettingsView, _merge


def test_the_defaults_pass_their_own_validation():
    defaults = default_settings()
    assert SettingsSchema().load(defaults) == defaults


def test_defaults_are_a_fresh_copy_each_time():
    first = default_settings()
    first["quotas"]["KA"] = 1
    first["follow_up"]["empty_phrases"].append("x")
    second = default_settings()
    assert second["quotas"]["KA"] == 50
    assert "x" not in second["follow_up"]["empty_phrases"]


def test_default_industries_have_unique_codes_and_known_lines():
    codes = [code for code, *_ in DEFAULT_INDUSTRIES]
    assert len(codes) == len(set(codes)) == 31
    assert {line for *_, line, _also in DEFAULT_INDUSTRIES} == {"KA", "INTERNET", "RETAIL", "PUBLIC", "SMB"}


@pytest.mark.parametrize("document, field", [
    ({"timezone": "Not/AZone"}, "timezone"),
    ({"quotas": {"KA": -1}}, "quotas"),
    ({"cooldown_days": -1}, "cooldown_days"),
    ({"reclaim": {"by_status": {"archived": 30}}}, "reclaim"),
    ({"follow_up": {"min_chars": 0}}, "follow_up"),
    ({"verification": {"photo_similar_bits": 65}}, "verification"),
    ({"verification": {"far_from_customer_min_m": 2000, "far_from_customer_max_m": 1000}}, "verification"),
    ({"industries": [{"code": "Bad Code", "name_zh": "x", "name_en": "x", "business_line": "KA"}]}, "industries"),
    ({"industries": [{"code": "a1", "name_zh": "x", "name_en": "x", "business_line": "MOON"}]}, "industries"),
    ({"industries": [{"code": "dup", "name_zh": "x", "name_en": "x", "business_line": "KA"},
                     {"code": "dup", "name_zh": "y", "name_en": "y", "business_line": "SMB"}]}, "industries"),
    ({"industries": [{"name_zh": "x", "name_en": "x", "business_line": "KA"}]}, "industries"),
    ({"surprise": True}, "surprise"),
])
def test_invalid_documents_name_the_field(document, field):
    with pytest.raises(ValidationError) as caught:
        SettingsSchema().load(document, partial=True)
    assert field in caught.value.messages


def test_partial_documents_are_valid():
    assert SettingsSchema().load({"quotas": {"PUBLIC": 20}}, partial=True) == {"quotas": {"PUBLIC": 20}}
    assert SettingsSchema().load({"quotas": {"KA": None}}, partial=True) == {"quotas": {"KA": None}}


def test_merge_is_deep_and_leaves_its_inputs_alone():
    base = default_settings()
    merged = _merge(base, {"verification": {"time_mismatch_s": 60}, "cooldown_days": 9})
    assert merged["verification"]["time_mismatch_s"] == 60
    assert merged["verification"]["far_from_customer_max_m"] == 1000
    assert merged["cooldown_days"] == 9
    assert base["verification"]["time_mismatch_s"] == 900
    assert base["cooldown_days"] == 3


def test_merge_replaces_reclaim_days_by_status_as_a_whole():
    merged = _merge(default_settings(), {"reclaim": {"by_status": {"potential": 30, "intent": 15}}})
    assert merged["reclaim"]["by_status"] == {"potential": 30, "intent": 15}
    assert merged["reclaim"]["default_days"] == 90


def test_merge_replaces_lists():
    merged = _merge(default_settings(), {"follow_up": {"empty_phrases": ["随便"]}})
    assert merged["follow_up"]["empty_phrases"] == ["随便"]
    assert merged["follow_up"]["min_chars"] == 8


def test_settings_view_reads_nested_values_as_attributes():
    view = SettingsView(default_settings())
    assert view.login.max_failures == 5
    assert view.quotas["KA"] == 50
    assert view.reclaim.by_status.potential == 90
    with pytest.raises(AttributeError):
        view.no_such_setting
