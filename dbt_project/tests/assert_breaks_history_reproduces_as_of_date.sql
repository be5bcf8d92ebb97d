{#
  The break change log reproduces the run's breaks for its as-of date (macro history_reproduces, keyed by break_id).
#}
{{ history_reproduces(ref('fct_reconciliation_breaks_history'), ref('int_reconciliation_breaks'), key='break_id') }}
