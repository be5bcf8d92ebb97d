{#
  The transaction reconciliation as of an earlier processed as-of date X, rebuilt from the change log.
  Print the SQL:  dbt compile --select transaction_status_as_of --vars '{as_of_date: "2026-01-06"}'
  (then read target/compiled/recon/analyses/transaction_status_as_of.sql), or paste it with your own date.
  X must be a processed date (select as_of_date from <ns>_marts.rpt_reconciliation_runs).
#}
{{ state_as_of(ref('fct_transaction_reconciliation_history'), recon_item_columns(), as_of_date()) }}
