{#
  fct_transaction_reconciliation and fct_payout_reconciliation show the latest as-of date processed, whatever date
  this run was for.
#}
-- reads several models: run by the reconcile DAG's dbt_cross_model_tests after every model is built
{{ config(tags=['cross_model']) }}
with shown as (
    select distinct 'fct_transaction_reconciliation' as mart, as_of_date
    from {{ ref('fct_transaction_reconciliation') }}
    union all
    select distinct 'fct_payout_reconciliation' as mart, as_of_date
    from {{ ref('fct_payout_reconciliation') }}
)

select shown.mart, shown.as_of_date, r.latest_as_of_date
from shown
cross join (select max(as_of_date) as latest_as_of_date from {{ ref('rpt_reconciliation_runs') }}) as r
where shown.as_of_date <> r.latest_as_of_date
