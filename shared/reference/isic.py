"""ISIC Rev.4 sections: the 21 top-level groups of the UN International Standard Industrial
Classification of All Economic Activities, Revision 4 (ST/ESA/STAT/SER.M/4/Rev.4, 2008)."""

from __future__ import annotations

ISIC_SECTIONS: dict[str, str] = {
    "A": "Agriculture, forestry and fishing",
    "B": "Mining and quarrying",
    "C": "Manufacturing",
    "D": "Electricity, gas, steam and air conditioning supply",
    "E": "Water supply; sewerage, waste management and remediation activities",
    "F": "Construction",
    "G": "Wholesale and retail trade; repair of motor vehicles and motorcycles",
    "H": "Transportation and storage",
    "I": "Accommodation and food service activities",
    "J": "Information and communication",
    "K": "Financial and insurance activities",
    "L": "Real estate activities",
    "M": "Professional, scientific and technical activities",
    "N": "Administrative and support service activities",
    "O": "Public administration and defence; compulsory social security",
    "P": "Education",
    "Q": "Human health and social work activities",
    "R": "Arts, entertainment and recreation",
    "S": "Other service activities",
    "T": "Activities of households as employers; undifferentiated goods- and services-producing"
    " activities of households for own use",
    "U": "Activities of extraterritorial organizations and bodies",
}


def validate_isic_section(code: str) -> str:
    """The section letter, upper-cased, when it is an ISIC Rev.4 section; ValueError otherwise."""
    canonical = code.strip().upper()
    if canonical not in ISIC_SECTIONS:
        raise ValueError(f"{code!r} is not an ISIC Rev.4 section: one letter from A to U")
    return canonical
