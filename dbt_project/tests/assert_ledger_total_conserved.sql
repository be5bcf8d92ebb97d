{#
  Conservation (contract 3), for the run's as-of date D: per currency, the posted ledger entries visible as of D
  (count and total amount) equal the sums over all statuses of rpt_daily_reconciliation for D, and of
  int_transaction_reconciliation. Returns one row per currency that does not add up.
#}
-- reads several models: run by the reconcile DAG's dbt_cross_model_tests after every model is built
{{ config(tags=['cross_model']) }}
with ledger as (
    select currency, count(*) as entry_count, sum(amount_minor) as amount_minor
    from {{ ref('stg_ledger__entries') }}
    where status = 'posted'
    group by currency
),

report as (
    select currency, sum(ledger_entry_count) as entry_count, sum(ledger_amount_minor) as amount_minor
    from {{ ref('rpt_daily_reconciliation') }}
    where as_of_date = {{ as_of_date() }}
      and leg = 'transaction'
    group by currency
),

items as (
    select currency, count(ledger_entry_id) as entry_count, coalesce(sum(ledger_amount_minor), 0) as amount_minor
    from {{ ref('int_transaction_reconciliation') }}
    group by currency
),

all_sides as (
    select currency, entry_count as ledger_count, amount_minor as ledger_amount,
           0 as report_count, 0 as report_amount, 0 as item_count, 0 as item_amount
    from ledger
    union all
    select currency, 0, 0, entry_count, amount_minor, 0, 0 from report
    union all
    select currency, 0, 0, 0, 0, entry_count, amount_minor from items
)

select
    currency,
    sum(ledger_count) as ledger_entry_count,
    sum(report_count) as report_entry_count,
    sum(item_count) as item_entry_count,
    sum(ledger_amount) as ledger_amount_minor,
    sum(report_amount) as report_amount_minor,
    sum(item_amount) as item_amount_minor
from all_sides
group by currency
having sum(ledger_count) <> sum(report_count)
    or sum(ledger_count) <> sum(item_count)
    or sum(ledger_amount) <> sum(report_amount)
    or sum(ledger_amount) <> sum(item_amount)
