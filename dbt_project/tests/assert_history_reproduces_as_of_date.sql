{#
  The transaction change log reproduces the run's reconciliation for its as-of date (macro history_reproduces).
#}
{{ history_reproduces(ref('fct_transaction_reconciliation_history'), ref('int_transaction_reconciliation')) }}
