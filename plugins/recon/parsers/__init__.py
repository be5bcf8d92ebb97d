"""Parsers turn one input file into typed rows (dicts keyed by the source's column names).

A parser raises `ParseError` naming the file, line and field on the first bad row: the whole file is then
quarantined, so no partial file ever lands. Before parsing, each file's records are counted (the manifest's
rows_read) and its fields searched for card numbers (`card_scan.py`). Register new formats, with their record
counter and card scanner, in `registry.py`.
"""
