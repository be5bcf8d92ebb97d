{#
  One row per as-of date processed. fct_transaction_reconciliation and fct_payout_reconciliation show the state as
  of max(as_of_date) here. Built after the run's reconciliations (int_transaction_reconciliation and
  int_payout_reconciliation) and before the histories, which read it to find the next processed date when an
  earlier date is re-run.
#}
{{ config(
    materialized='incremental',
    full_refresh=false,
    delete_where='as_of_date = {{ as_of_date() }}'
) }}

-- depends_on: {{ ref('int_transaction_reconciliation') }}
-- depends_on: {{ ref('int_payout_reconciliation') }}

select
    {{ as_of_date() }} as as_of_date,
    utc_timestamp(6) as processed_at
