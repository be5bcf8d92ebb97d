{#
  Question: how does the match rate move from one as-of date to the next, per leg and source?
    transaction leg: share of items matched by the processor, and share fully reconciled (matched AND funded);
    payout leg:      share of payouts funded by the bank (source = the processor, or the bank for unexplained
                     credits). All currencies of a source together; the last `trend_days` days (default 30).
  Run:  dbt compile --select match_rate_trend --vars '{trend_days: 90}'   (no as_of_date needed)
        then run target/compiled/recon/analyses/match_rate_trend.sql, or paste this query with
        `<ns>_marts.rpt_daily_reconciliation` in place of the ref.
#}
with daily as (
    select
        as_of_date,
        leg,
        source,
        sum(item_count) as item_count,
        sum(case when status in ('matched', 'funded') then item_count else 0 end) as matched_count,
        sum(fully_reconciled_count) as fully_reconciled_count
    from {{ ref('rpt_daily_reconciliation') }}
    where as_of_date >= (
        select date_sub(max(as_of_date), interval {{ var('trend_days', 30) | int }} day)
        from {{ ref('rpt_daily_reconciliation') }}
    )
    group by as_of_date, leg, source
)

select
    as_of_date,
    leg,
    source,
    item_count,
    matched_count,
    round(matched_count / item_count, 4) as match_rate,
    round(fully_reconciled_count / item_count, 4) as fully_reconciled_rate,
    round(matched_count / item_count
          - lag(matched_count / item_count) over (partition by leg, source order by as_of_date), 4)
        as match_rate_change
from daily
order by leg, source, as_of_date
