{#
  Change log of the transaction reconciliation (int_transaction_reconciliation): a row for an item only when its
  reconciliation changed since the previous as-of date. Mechanics, removals and re-run "pins": macro change_log.
  State of the items as of any processed date X: per recon_key the row with the greatest as_of_date <= X, unless
  it is a removal (analyses/transaction_status_as_of.sql).
  Index on ledger_entry_id: the mart gate (plugins/recon/gates/marts.py) finds each posted entry's item by it; without
  it MariaDB scanned the rebuilt state once per entry (20,000 entries: minutes; 1,000,000: never done).
#}
{{ config(
    materialized='incremental',
    full_refresh=false,
    delete_where='as_of_date = {{ as_of_date() }}',
    post_hook=[
        "{{ recon_index(['recon_key', 'as_of_date']) }}",
        "{{ recon_index(['as_of_date']) }}",
        "{{ recon_index(['ledger_entry_id']) }}",
    ]
) }}

-- depends_on: {{ ref('rpt_reconciliation_runs') }}

{{ change_log(ref('int_transaction_reconciliation'), recon_item_columns()) }}
