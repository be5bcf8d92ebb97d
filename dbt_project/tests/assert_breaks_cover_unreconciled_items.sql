{#
  As of the latest processed date, every item that is not matched (transaction leg) or not funded (payout leg) has
  exactly one break that is not closed (lifecycle open, reopened, or resolved by a person while still broken) with
  the item's status as its reason, and every such break is such an item. Returns the offending items or breaks.
#}
-- reads several models: run by the reconcile DAG's dbt_cross_model_tests after every model is built
{{ config(tags=['cross_model']) }}
with unreconciled as (
    select 'transaction' as leg, recon_key as item_key, status
    from {{ ref('fct_transaction_reconciliation') }}
    where status <> 'matched'
    union all
    select 'payout' as leg, recon_key as item_key, status
    from {{ ref('fct_payout_reconciliation') }}
    where status <> 'funded'
),

standing as (
    select leg, item_key, reason, count(*) over (partition by leg, item_key) as break_count
    from {{ ref('fct_reconciliation_breaks') }}
    where closed_as_of is null
)

select 'item_without_break' as problem, u.leg, u.item_key, u.status as detail
from unreconciled as u
left join standing as b
    on b.leg = u.leg and b.item_key = u.item_key and b.reason = u.status
where b.item_key is null

union all

select 'break_without_item_or_duplicate' as problem, b.leg, b.item_key, b.reason as detail
from standing as b
left join unreconciled as u
    on u.leg = b.leg and u.item_key = b.item_key and u.status = b.reason
where u.item_key is null or b.break_count > 1
