"""People to register in the browser tests, and how an officer fills the registration form
(by the form's documented ids: `f-<field>`)."""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playwright.async_api import Page

# Lao given names with the usual romanisation and another one an officer might write.
_NAMES = [
    ("ສົມສັກ", "Somsack", "Somsak"),
    ("ບຸນມີ", "Bounmy", "Bounmi"),
    ("ຄຳພອນ", "Khamphone", "Khamphon"),
    ("ວຽງສະຫວັນ", "Viengsavanh", "Viengsavan"),
    ("ສີສະຫວາດ", "Sisavath", "Sisavat"),
    ("ພອນສະຫວັນ", "Phonesavanh", "Phonsavan"),
    ("ບົວພັນ", "Bouaphanh", "Bouaphan"),
    ("ແສງເດືອນ", "Sengdeuane", "Sengduan"),
]
_FAMILIES = [
    ("ພົມມະຈັນ", "Phommachanh", "Phommachan"),
    ("ສີວົງໄຊ", "Sivongxay", "Sivongsai"),
    ("ແກ້ວມະນີ", "Keomany", "Kaewmani"),
    ("ວົງສາ", "Vongsa", "Wongsa"),
    ("ອິນທະວົງ", "Inthavong", "Inthawong"),
    ("ສຸວັນນະລາດ", "Souvannarath", "Suwannarat"),
]
_seen = itertools.count()
# Birth dates differ from one person to the next (and from one test session to the next).
_FIRST_BIRTH = date(1975, 1, 1) + timedelta(days=random.randrange(3000))


@dataclass(frozen=True)
class Person:
    given_lo: str
    family_lo: str
    given_en: str
    family_en: str
    # The same names as another officer would write them in Latin letters.
    given_en_other: str
    family_en_other: str
    sex: str
    born: date

    @property
    def name_lo(self) -> str:
        return f"{self.given_lo} {self.family_lo}"

    def registry_body(self, province: str = "LA-VT") -> dict[str, Any]:
        """The same person as the registry's API takes it (to register them directly)."""
        return {
            "given_name_lo": self.given_lo,
            "family_name_lo": self.family_lo,
            "given_name_en": self.given_en,
            "family_name_en": self.family_en,
            "sex": self.sex,
            "date_of_birth": self.born.isoformat(),
            "province_code": province,
        }


def someone() -> Person:
    """A person no other test registers: names drawn at random, a birth date of their own
    (a probable duplicate needs the same birth date or phone as well as the name)."""
    n = next(_seen)
    given = random.choice(_NAMES)
    family = random.choice(_FAMILIES)
    born = _FIRST_BIRTH + timedelta(days=n * 13)
    return Person(
        given[0],
        family[0],
        given[1],
        family[1],
        given[2],
        family[2],
        random.choice(["female", "male"]),
        born,
    )


async def fill_registration(
    page: Page, person: Person, *, other_spelling: bool = False, district: bool = True
) -> None:
    """Type a person into the registration form, in the order of the interview."""
    await page.locator("#f-given_name_lo").fill(person.given_lo)
    await page.locator("#f-family_name_lo").fill(person.family_lo)
    given, family = (
        (person.given_en_other, person.family_en_other)
        if other_spelling
        else (person.given_en, person.family_en)
    )
    await page.locator("#f-given_name_en").fill(given)
    await page.locator("#f-family_name_en").fill(family)
    await page.locator(f'input[name="sex"][value="{person.sex}"]').check()
    await page.locator("#f-date_of_birth-day").fill(str(person.born.day))
    await page.locator("#f-date_of_birth-month").fill(str(person.born.month))
    await page.locator("#f-date_of_birth-year").fill(str(person.born.year))
    if district:
        await page.locator("#f-district").select_option(index=1)
    await page.locator('input[name="consent_sms"][value="given"]').check()
