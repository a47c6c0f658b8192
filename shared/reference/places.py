"""Places from pycountry: Lao provinces (ISO 3166-2:LA) and countries (ISO 3166-1)."""

from __future__ import annotations

from functools import lru_cache

import pycountry


@lru_cache
def lao_provinces() -> dict[str, str]:
    """ISO 3166-2:LA code → English name, e.g. `LA-VT` → `Vientiane Prefecture`."""
    return {s.code: s.name for s in pycountry.subdivisions.get(country_code="LA") or []}  # type: ignore[no-untyped-call]


# The provinces as their people and the ministry write them, Lao first: pycountry's names are
# romanisations of another era ("Savannakhét", "Louangphabang") and give the capital and the
# province around it the same name ("Viangchan"), which made two offices look alike.
PROVINCE_NAMES: dict[str, tuple[str, str]] = {
    "LA-AT": ("ແຂວງອັດຕະປື", "Attapeu"),
    "LA-BK": ("ແຂວງບໍ່ແກ້ວ", "Bokeo"),
    "LA-BL": ("ແຂວງບໍລິຄຳໄຊ", "Bolikhamxay"),
    "LA-CH": ("ແຂວງຈຳປາສັກ", "Champasak"),
    "LA-HO": ("ແຂວງຫົວພັນ", "Houaphanh"),
    "LA-KH": ("ແຂວງຄຳມ່ວນ", "Khammouane"),
    "LA-LM": ("ແຂວງຫຼວງນ້ຳທາ", "Luang Namtha"),
    "LA-LP": ("ແຂວງຫຼວງພະບາງ", "Luang Prabang"),
    "LA-OU": ("ແຂວງອຸດົມໄຊ", "Oudomxay"),
    "LA-PH": ("ແຂວງຜົ້ງສາລີ", "Phongsaly"),
    "LA-SL": ("ແຂວງສາລະວັນ", "Salavan"),
    "LA-SV": ("ແຂວງສະຫວັນນະເຂດ", "Savannakhet"),
    "LA-VI": ("ແຂວງວຽງຈັນ", "Vientiane Province"),
    "LA-VT": ("ນະຄອນຫຼວງວຽງຈັນ", "Vientiane Capital"),
    "LA-XA": ("ແຂວງໄຊຍະບູລີ", "Xayaboury"),
    "LA-XE": ("ແຂວງເຊກອງ", "Sekong"),
    "LA-XI": ("ແຂວງຊຽງຂວາງ", "Xiangkhouang"),
    "LA-XS": ("ແຂວງໄຊສົມບູນ", "Xaisomboun"),
}


def province_name(code: str, language: str = "lo") -> str:
    """The province's name in Lao (default) or English; the code itself if unknown."""
    names = PROVINCE_NAMES.get(code)
    if names is None:
        return code
    return names[0] if language == "lo" else names[1]


def validate_province(code: str) -> str:
    """The canonical upper-case code; ValueError when it is not a Lao province."""
    canonical = code.strip().upper()
    if canonical not in lao_provinces():
        raise ValueError(f"{code!r} is not an ISO 3166-2:LA province code (e.g. LA-VT)")
    return canonical


def validate_country(code: str) -> str:
    """An ISO 3166-1 alpha-2 country code, upper case; ValueError when there is no such country."""
    canonical = code.strip().upper()
    if len(canonical) != 2 or pycountry.countries.get(alpha_2=canonical) is None:
        raise ValueError(f"{code!r} is not an ISO 3166-1 alpha-2 country code (e.g. TH)")
    return canonical
