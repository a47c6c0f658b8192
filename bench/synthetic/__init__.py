"""Synthetic Lao people for benchmarks: registration bodies and duplicates typed another way."""

from bench.synthetic.people import generate_people, messy_variant, respell

__all__ = ["generate_people", "messy_variant", "respell"]
