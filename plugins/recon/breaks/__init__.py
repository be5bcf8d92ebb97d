"""Breaks (contract 2.3): the analyst's workflow on top of the fct_reconciliation_breaks mart - list them, resolve
one with an audit trail (an append-only resolutions table), refresh the break marts after a resolution."""
