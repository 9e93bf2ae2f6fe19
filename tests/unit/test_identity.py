"""Customer identity helpers: name normalization, tax ids, pinyin initials (SPEC R-C1, R-C2)."""

from __future__ import annotations

import random
import unicodedata

import pytest

from server.customers.identity import (
    TAX_ID_ALPHABET,
    generate_tax_id,
    is_valid_tax_id,
    normalize_name,
    normalize_tax_id,
    pinyin_initials,
    tax_id_check_char,
    tax_id_problem,
)

REAL_CODES = ("91350100M000100Y43", "91110108551385082Q")

# --------------------------------------------------------------------------------------------
# normalize_name
# --------------------------------------------------------------------------------------------


def test_full_width_and_brackets_equal_half_width() -> None:
    assert normalize_name("ＡＢＣ（上海）有限公司") == normalize_name("abc(上海)有限公司")
    assert normalize_name("ＡＢＣ（上海）有限公司") == "abc(上海)有限公司"


@pytest.mark.parametrize(
    "variant",
    [
        "上海 春意 空调有限公司",
        " 上海春意空调有限公司 ",
        "上海\u3000春意空调有限公司",  # ideographic space
        "上海\t春意\n空调有限公司",
        "上海\u00a0春意空调有限公司",  # no-break space
        "上海\u200b春意\u200d空调\ufeff有限公司",  # zero-width characters
    ],
)
def test_whitespace_and_invisible_characters_removed(variant: str) -> None:
    assert normalize_name(variant) == "上海春意空调有限公司"


@pytest.mark.parametrize(
    "variant",
    ["【春意】空调", "[春意]空调", "［春意］空调", "〔春意〕空调", "﹝春意﹞空调", "〖春意〗空调"],
)
def test_square_bracket_variants_collapse(variant: str) -> None:
    assert normalize_name(variant) == "[春意]空调"


@pytest.mark.parametrize("variant", ["（上海）", "(上海)", "﹙上海﹚", "︵上海︶"])
def test_round_bracket_variants_collapse(variant: str) -> None:
    assert normalize_name(variant) == "(上海)"


def test_case_folded() -> None:
    assert normalize_name("IBM China Co., Ltd.") == normalize_name("ibm china co., ltd.")
    assert normalize_name("Straße GmbH") == normalize_name("STRASSE GMBH")


def test_round_and_square_brackets_stay_different() -> None:
    # The spec maps （）→() and 【】→[]; it does not merge () with [].
    assert normalize_name("(上海)") != normalize_name("[上海]")


def test_different_names_stay_different() -> None:
    assert normalize_name("上海春意空调有限公司") != normalize_name("上海春意空调股份有限公司")


@pytest.mark.parametrize(
    "name",
    ["ＡＢＣ（上海）有限公司", " a b c ", "【x】〔y〕", "Straße\u1e9e", "ﬁ ligature", "", "\u3000"],
)
def test_normalize_name_idempotent(name: str) -> None:
    once = normalize_name(name)
    assert normalize_name(once) == once


def test_normalize_name_idempotent_for_every_changing_code_point() -> None:
    # casefold() can leave text that NFKC changes again (e.g. U+1E9E, U+0345). Check every
    # code point that NFKC, casefold or the invisible-character filter touches, plus combining
    # marks, each next to letters and brackets.
    def touched(ch: str) -> bool:
        return (
            unicodedata.normalize("NFKC", ch) != ch
            or ch.casefold() != ch
            or unicodedata.combining(ch) != 0
            or unicodedata.category(ch) == "Cf"
            or ch.isspace()
        )

    checked = 0
    for cp in range(0x110000):
        ch = chr(cp)
        if 0xD800 <= cp < 0xE000 or not touched(ch):
            continue
        once = normalize_name(f"A{ch}（{ch}】{ch}")
        assert normalize_name(once) == once, hex(cp)
        checked += 1
    assert checked > 5000


# --------------------------------------------------------------------------------------------
# Tax ids (统一社会信用代码)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", REAL_CODES)
def test_real_codes_valid(code: str) -> None:
    assert is_valid_tax_id(code)
    assert tax_id_problem(code) is None


@pytest.mark.parametrize("code", REAL_CODES)
def test_check_char_of_real_codes(code: str) -> None:
    assert tax_id_check_char(code[:17]) == code[17]


def test_check_char_by_hand() -> None:
    # Non-zero terms: 9*1 + 1*3 + 3*9 + 5*27 + 1*26 + M(21)*20 + 1*8 + Y(30)*30 + 4*28
    # = 1640; 1640 % 31 = 28; 31 - 28 = 3 -> "3".
    first17 = "91350100M000100Y4"
    weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    total = sum(TAX_ID_ALPHABET.index(ch) * w for ch, w in zip(first17, weights, strict=True))
    assert total == 1640
    assert tax_id_check_char(first17) == TAX_ID_ALPHABET[(31 - total % 31) % 31] == "3"


def test_check_char_zero_case() -> None:
    # A sum that is a multiple of 31 gives check value 0 -> "0", not alphabet[31].
    first17 = "0" * 17
    assert tax_id_check_char(first17) == "0"


@pytest.mark.parametrize("bad", ["", "9135010", "91350100M000100Y4X", "91350100m000100Y4"])
def test_check_char_rejects_bad_input(bad: str) -> None:
    with pytest.raises(ValueError):
        tax_id_check_char(bad)


@pytest.mark.parametrize("code", REAL_CODES)
def test_every_single_character_substitution_is_rejected(code: str) -> None:
    # 31 is prime and every weight is non-zero mod 31, so any one substituted character
    # changes the checksum: no corruption may slip through.
    for pos in range(18):
        for ch in TAX_ID_ALPHABET + "IOZSVa-":
            if ch == code[pos]:
                continue
            corrupted = code[:pos] + ch + code[pos + 1:]
            assert not is_valid_tax_id(corrupted), corrupted
            assert tax_id_problem(corrupted) is not None


@pytest.mark.parametrize("code", REAL_CODES)
def test_adjacent_transpositions_rejected(code: str) -> None:
    for pos in range(17):
        if code[pos] == code[pos + 1]:
            continue
        swapped = code[:pos] + code[pos + 1] + code[pos] + code[pos + 2:]
        assert not is_valid_tax_id(swapped), swapped


def test_wrong_check_char_reason() -> None:
    assert tax_id_problem("91350100M000100Y44") == "check_character"
    assert tax_id_problem("91110108551385082A") == "check_character"


@pytest.mark.parametrize(
    "code", ["", "91350100M000100Y4", "91350100M000100Y433", "9135 0100M000100Y43"[:10]]
)
def test_length_reason(code: str) -> None:
    assert tax_id_problem(code) == "length"
    assert not is_valid_tax_id(code)


@pytest.mark.parametrize("letter", "IOZSV")
def test_excluded_letters_are_charset_errors(letter: str) -> None:
    code = "91350100M000100Y4" + letter
    assert tax_id_problem(code) == "charset"
    code = "91350100" + letter + "000100Y43"
    assert tax_id_problem(code) == "charset"


def test_other_charset_errors() -> None:
    assert tax_id_problem("91350100M000100Y4-") == "charset"
    assert tax_id_problem("91350100M000100Y4 ") == "charset"
    assert tax_id_problem("９１350100M000100Y43") == "charset"  # full-width digits


def test_lowercase_is_invalid_until_normalized() -> None:
    raw = "91350100m000100y43"
    assert tax_id_problem(raw) == "charset"
    assert not is_valid_tax_id(raw)
    assert is_valid_tax_id(normalize_tax_id(raw))


def test_division_reason() -> None:
    # A letter among positions 3-8; the check char is recomputed so only the division is wrong.
    first17 = "9135A100M000100Y4"
    assert tax_id_problem(first17 + tax_id_check_char(first17)) == "division"


def test_registration_authority_reason() -> None:
    first17 = "B1350100M000100Y4"
    assert tax_id_problem(first17 + tax_id_check_char(first17)) == "registration_authority"


@pytest.mark.parametrize("authority", "123456789ANY")
def test_all_registration_authorities_accepted(authority: str) -> None:
    first17 = authority + "1350100M000100Y4"
    assert is_valid_tax_id(first17 + tax_id_check_char(first17))


def test_normalize_tax_id() -> None:
    assert normalize_tax_id(" ９１３５０１００ｍ０００１００ｙ４３ ") == "91350100M000100Y43"
    assert normalize_tax_id("9135 0100\u3000M000 100Y\t43\u200b") == "91350100M000100Y43"
    assert normalize_tax_id("91110108551385082q") == "91110108551385082Q"
    assert normalize_tax_id(normalize_tax_id(" 9111 ")) == "9111"


def test_generated_codes_valid_and_shaped() -> None:
    rng = random.Random(20260101)
    codes = [generate_tax_id(rng) for _ in range(1000)]
    for code in codes:
        assert is_valid_tax_id(code), code
        assert code[2:8] == "310101"
        assert normalize_tax_id(code) == code
    assert len(set(codes)) == 1000


def test_generated_codes_use_division_and_are_deterministic() -> None:
    a = [generate_tax_id(random.Random(5), "310115") for _ in range(3)]
    b = [generate_tax_id(random.Random(5), "310115") for _ in range(3)]
    assert a == b
    assert all(code[2:8] == "310115" and is_valid_tax_id(code) for code in a)


@pytest.mark.parametrize("division", ["31010", "3101011", "31010A", ""])
def test_generate_rejects_bad_division(division: str) -> None:
    with pytest.raises(ValueError):
        generate_tax_id(random.Random(1), division)


# --------------------------------------------------------------------------------------------
# Pinyin initials
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "initials"),
    [
        ("上海春意空调有限公司", "shcyktyxgs"),  # 空调 reads kong tiao, not kong diao
        ("ABC（上海）有限公司", "abcshyxgs"),
        ("ＡＢＣ上海", "abcsh"),  # full-width letters count as ASCII
        ("3M中国", "3mzg"),
        ("华为·技术 有限公司", "hwjsyxgs"),
        ("重庆银行", "cqyh"),
        ("", ""),
        ("—！？", ""),
    ],
)
def test_pinyin_initials(name: str, initials: str) -> None:
    assert pinyin_initials(name) == initials
