"""Synthetic Lao people for benchmarks: registration bodies and duplicates typed another way;
and a synthetic job bank: employers, licensed agencies and published vacancies."""

from bench.synthetic.people import generate_people, messy_variant, respell
from bench.synthetic.vacancies import generate_agencies, generate_employers, generate_vacancies

__all__ = [
    "generate_agencies",
    "generate_employers",
    "generate_people",
    "generate_vacancies",
    "messy_variant",
    "respell",
]
