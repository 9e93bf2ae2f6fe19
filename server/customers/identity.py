"""Customer identity helpers: name normalization, tax-id validation, pinyin initials.

Pure functions (no Flask, no database) so the server, the sync code, the demo generator and
the tests all share one definition of "the same customer" (SPEC R-C1, R-C2).
"""

from __future__ import annotations

import random
import unicodedata

from pypinyin import Style, lazy_pinyin

__all__ = [
    "TAX_ID_ALPHABET",
    "TAX_ID_LENGTH",
    "generate_tax_id",
    "is_valid_tax_id",
    "normalize_name",
    "normalize_tax_id",
    "pinyin_initials",
    "tax_id_check_char",
    "tax_id_problem",
]

# --------------------------------------------------------------------------------------------
# Name normalization (R-C1)
# --------------------------------------------------------------------------------------------

# Applied after NFKC. NFKC already turns （）［］﹙﹚︵︶ into ()[] and ﹝﹞ into 〔〕, but it
# leaves the CJK lenticular/tortoise-shell brackets alone, and people type 【】 and [] for the
# same thing, so they all collapse to square brackets.
_BRACKET_MAP = str.maketrans(
    {
        "【": "[",
        "】": "]",
        "〔": "[",
        "〕": "]",
        "〖": "[",
        "〗": "]",
        "〘": "[",
        "〙": "]",
        "〚": "[",
        "〛": "]",
    }
)


def _is_invisible(ch: str) -> bool:
    # White space (incl. U+3000 and NBSP) and format characters (Cf: zero-width space/joiners,
    # BOM, bidi marks, soft hyphen) cannot be seen, so they must not make two names differ.
    return ch.isspace() or unicodedata.category(ch) == "Cf"


def normalize_name(name: str) -> str:
    """Return the uniqueness key of a customer name (SPEC R-C1). Idempotent."""
    text = unicodedata.normalize("NFKC", name)
    text = text.translate(_BRACKET_MAP)
    text = "".join(ch for ch in text if not _is_invisible(ch))
    # casefold() can produce text that is not NFKC-normal again (e.g. U+1E9E), so normalise
    # once more; the result is then a fixed point (see the idempotence test).
    text = unicodedata.normalize("NFKC", text.casefold())
    return "".join(ch for ch in text if not _is_invisible(ch))


# --------------------------------------------------------------------------------------------
# Unified social credit code (统一社会信用代码, GB 32100-2015)
# --------------------------------------------------------------------------------------------

TAX_ID_LENGTH = 18
# 31 characters: digits and upper-case letters without I, O, Z, S, V.
TAX_ID_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {ch: i for i, ch in enumerate(TAX_ID_ALPHABET)}
# Weight of position i (0-based) is 3^i mod 31.
_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
# Registration authority (position 1): 1 机构编制, 2 外交, 3 司法行政, 4 文化, 5 民政, 6 旅游,
# 7 宗教, 8 工会, 9 市场监管(工商), A 中央军委改革和编制办公室, N 农业, Y 其他.
_AUTHORITIES = frozenset("123456789ANY")


def normalize_tax_id(raw: str) -> str:
    """Canonical form of a typed tax id: NFKC (full-width to ASCII), no white space, upper case."""
    text = unicodedata.normalize("NFKC", raw)
    return "".join(ch for ch in text if not _is_invisible(ch)).upper()


def tax_id_check_char(first17: str) -> str:
    """Check character (position 18) for the first 17 characters of a code.

    Raises ValueError if the input is not 17 characters from the code alphabet.
    """
    if len(first17) != 17 or any(ch not in _VALUE for ch in first17):
        raise ValueError("expected 17 characters from the tax-id alphabet")
    total = sum(_VALUE[ch] * w for ch, w in zip(first17, _WEIGHTS, strict=True))
    return TAX_ID_ALPHABET[(31 - total % 31) % 31]


def tax_id_problem(code: str) -> str | None:
    """Why `code` is not a valid unified social credit code, or None if it is.

    Reasons: "length", "charset", "registration_authority", "division", "check_character".
    The code must already be normalized (see normalize_tax_id): lower case is a charset error,
    so that a stored tax id is always in canonical form.
    """
    if len(code) != TAX_ID_LENGTH:
        return "length"
    if any(ch not in _VALUE for ch in code):
        return "charset"
    if code[0] not in _AUTHORITIES:
        return "registration_authority"
    # Position 2 (organisation type) is any alphabet character: the allowed set depends on
    # the authority and changes over time, so we do not second-guess it.
    if not code[2:8].isdigit():
        return "division"
    # Positions 9-17 (organisation code) only need to be alphabet characters; individual
    # businesses (个体工商户) carry codes whose embedded GB 11714 check does not hold.
    if tax_id_check_char(code[:17]) != code[17]:
        return "check_character"
    return None


def is_valid_tax_id(code: str) -> bool:
    """True if `code` (already normalized) is a structurally valid code with a correct check."""
    return tax_id_problem(code) is None


# GB 11714 organisation-code check: letters count A=10 .. Z=35 (the full Latin alphabet).
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def _org_code_check_char(first8: str) -> str:
    total = sum(int(ch, 36) * w for ch, w in zip(first8, _ORG_WEIGHTS, strict=True))
    c = 11 - total % 11
    return "X" if c == 10 else "0" if c == 11 else str(c)


def generate_tax_id(rng: random.Random, division: str = "310101") -> str:
    """A random valid code, shaped like a real one (for demo data and test factories).

    Mostly enterprises (91...), some institutions and social organisations; the embedded
    organisation code carries a correct GB 11714 check like real codes do.
    """
    if len(division) != 6 or not division.isdigit():
        raise ValueError("division must be 6 digits")
    authority, org_type = rng.choice(
        [("9", "1")] * 14 + [("9", "2"), ("9", "3"), ("1", "1"), ("1", "2"), ("5", "1"),
                             ("5", "2"), ("5", "3"), ("Y", "1")]
    )
    if rng.random() < 0.6:
        # Codes issued since 2015 start their org code with "MA" followed by alphanumerics.
        first8 = "MA" + "".join(rng.choice(TAX_ID_ALPHABET) for _ in range(6))
    else:
        first8 = "".join(rng.choice("0123456789") for _ in range(8))
    first17 = authority + org_type + division + first8 + _org_code_check_char(first8)
    return first17 + tax_id_check_char(first17)


# --------------------------------------------------------------------------------------------
# Pinyin initials (R-C2 search-as-you-type)
# --------------------------------------------------------------------------------------------


def pinyin_initials(name: str) -> str:
    """Lower-case pinyin initials of the Chinese characters; ASCII letters/digits kept.

    "上海春意空调有限公司" -> "shcyktyxgs". Other characters (punctuation, brackets, spaces,
    non-ASCII letters) are dropped.
    """
    # NFKC first so full-width letters/digits count as ASCII. The whole string goes to
    # pypinyin at once so its phrase dictionary picks the right reading (空调 -> kong tiao).
    text = unicodedata.normalize("NFKC", name)
    parts = lazy_pinyin(text, style=Style.FIRST_LETTER, errors="default")
    return "".join(ch.lower() for part in parts for ch in part if ch.isascii() and ch.isalnum())
