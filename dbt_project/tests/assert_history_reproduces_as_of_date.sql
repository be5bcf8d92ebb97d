{#
  The change log is lossless: the state it reconstructs for the run's as-of date D (per recon_key the latest row
  with as_of_date <= D, removals excluded) is exactly int_transaction_reconciliation (same items, same row_hash).
  Returns the items that differ, with the side they come from.
#}
with reconstructed as (
    select ranked.recon_key, ranked.row_hash
    from (
        select
            h.recon_key,
            h.row_hash,
            h.is_removed,
            row_number() over (partition by h.recon_key order by h.as_of_date desc) as row_rank
        from {{ ref('fct_transaction_reconciliation_history') }} as h
        where h.as_of_date <= {{ as_of_date() }}
    ) as ranked
    where ranked.row_rank = 1
      and ranked.is_removed = 0
),

computed as (
    select recon_key, row_hash
    from {{ ref('int_transaction_reconciliation') }}
)

select 'only_in_history_or_different' as problem, r.recon_key, r.row_hash
from reconstructed as r
left join computed as c
    on c.recon_key = r.recon_key
   and c.row_hash = r.row_hash
where c.recon_key is null

union all

select 'only_in_reconciliation_or_different' as problem, c.recon_key, c.row_hash
from computed as c
left join reconstructed as r
    on r.recon_key = c.recon_key
   and r.row_hash = c.row_hash
where r.recon_key is null
