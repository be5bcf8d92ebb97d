{#
  The payout reconciliation (contract 2.2) as of the LATEST as-of date processed (max(as_of_date) of rpt_reconciliation_runs),
  rebuilt from the change log: per item, its latest history row with as_of_date <= that date, removals excluded.
  Re-running an earlier date therefore never changes what this shows (it is the latest date's answer).
  Earlier dates: query fct_payout_reconciliation_history (analyses/payout_status_as_of.sql).
#}
{{ config(
    materialized='table',
    post_hook=[
        "{{ recon_index(['recon_key']) }}",
        "{{ recon_index(['status']) }}",
        "{{ recon_index(['payout_date']) }}",
    ]
) }}

{{ latest_state(ref('fct_payout_reconciliation_history'), payout_item_columns()) }}
