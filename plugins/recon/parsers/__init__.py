"""Parsers turn one input file into typed rows (dicts keyed by the source's column names).

A parser raises `ParseError` naming the file, line and field on the first bad row: the whole file is then
quarantined, so no partial file ever lands. Register new formats in `registry.py`.
"""
