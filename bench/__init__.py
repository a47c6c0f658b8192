"""Benchmarks for labourx (not tests): `python -m bench` runs them all and prints a table.

Every figure is measured next to a reference built for the purpose in the same run, on the same
machine and servers, so the ratio says what labourx's own code costs (docs/performance.md).
"""
