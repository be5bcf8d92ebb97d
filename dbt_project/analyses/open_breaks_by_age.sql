{#
  Question: how many breaks are open, how old are they and how much money do they hold?
  Per leg, reason (the item's status), currency and age bucket ('0-1', '2-3', '4-7', '8-30', '>30' days open in
  the current episode), the open and reopened breaks of fct_reconciliation_breaks (latest processed as-of date),
  with the P1 count and the oldest break. Amounts are minor units of `currency` (never summed across currencies).
  Run:  dbt compile --select open_breaks_by_age   (no vars needed)
        then run target/compiled/recon/analyses/open_breaks_by_age.sql, or paste this query with
        `<ns>_marts.fct_reconciliation_breaks` in place of the ref.
#}
select
    leg,
    reason,
    currency,
    age_bucket,
    count(*) as open_breaks,
    sum(case when priority = 'P1' then 1 else 0 end) as p1_breaks,
    sum(case when lifecycle = 'reopened' then 1 else 0 end) as reopened_breaks,
    sum(amount_minor) as amount_minor,
    max(age_days) as oldest_age_days,
    min(opened_as_of) as oldest_opened_as_of,
    max(as_of_date) as as_of_date
from {{ ref('fct_reconciliation_breaks') }}
where lifecycle in ('open', 'reopened')
group by leg, reason, currency, age_bucket
order by
    leg,
    reason,
    currency,
    case age_bucket when '0-1' then 1 when '2-3' then 2 when '4-7' then 3 when '8-30' then 4 else 5 end
