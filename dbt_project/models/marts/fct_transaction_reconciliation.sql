{#
  The transaction reconciliation as of the LATEST as-of date processed (max(as_of_date) of rpt_reconciliation_runs),
  rebuilt from the change log: per item, its latest history row with as_of_date <= that date, removals excluded.
  Re-running an earlier date therefore never changes what this shows (it is the latest date's answer).
  Earlier dates: query fct_transaction_reconciliation_history (analyses/transaction_status_as_of.sql).
#}
{{ config(
    materialized='table',
    post_hook=[
        "{{ recon_index(['recon_key']) }}",
        "{{ recon_index(['status']) }}",
        "{{ recon_index(['business_date']) }}",
    ]
) }}

with latest_run as (
    select max(as_of_date) as as_of_date
    from {{ ref('rpt_reconciliation_runs') }}
),

ranked as (
    select
        h.*,
        r.as_of_date as state_as_of_date,
        row_number() over (partition by h.recon_key order by h.as_of_date desc) as row_rank
    from {{ ref('fct_transaction_reconciliation_history') }} as h
    inner join latest_run as r
        on h.as_of_date <= r.as_of_date
)

select
    state_as_of_date as as_of_date,
    recon_key,
    {%- for column in recon_item_columns() %}
    {{ column }},
    {%- endfor %}
    row_hash,
    as_of_date as changed_as_of_date
from ranked
where row_rank = 1
  and is_removed = 0
