"""Synthetic Lao people for benchmarks and `labourx seed`: registration bodies and duplicates
and a synthetic job bank: employers, licensed agencies and published vacancies."""

from shared.synthetic.people import generate_people, messy_variant, respell
from shared.synthetic.vacancies import generate_agencies, generate_employers, generate_vacancies

__all__ = [
    "generate_agencies",
    "generate_employers",
    "generate_people",
    "generate_vacancies",
    "messy_variant",
    "respell",
]
