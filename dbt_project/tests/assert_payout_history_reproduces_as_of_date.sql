{#
  The payout change log reproduces the run's payout reconciliation for its as-of date (macro history_reproduces).
#}
{{ history_reproduces(ref('fct_payout_reconciliation_history'), ref('int_payout_reconciliation')) }}
