{#
  Question: which open breaks should ops work first?
  The open and reopened breaks of fct_reconciliation_breaks (latest processed as-of date), P1 first, then the
  oldest, then the largest amount, with what is needed to look each one up (processor reference, ledger entry,
  payout reference in `reference`). `top_n` (default 50) limits the list; `priority` (e.g. 'P1') keeps one priority.
  Run:  dbt compile --select top_open_breaks --vars '{top_n: 20, priority: P1}'   (both optional)
        then run target/compiled/recon/analyses/top_open_breaks.sql, or paste this query with
        `<ns>_marts.fct_reconciliation_breaks` in place of the ref.
#}
{%- set priority = var('priority', none) %}
select
    priority,
    age_days,
    age_bucket,
    leg,
    reason,
    side,
    processor,
    reference,
    ledger_entry_id,
    item_key,
    business_date,
    amount_minor,
    currency,
    lifecycle,
    times_opened,
    opened_as_of,
    first_seen_as_of,
    break_id,
    as_of_date
from {{ ref('fct_reconciliation_breaks') }}
where lifecycle in ('open', 'reopened')
{%- if priority %}
  and priority = '{{ priority | replace("'", "") }}'
{%- endif %}
order by priority, age_days desc, abs(amount_minor) desc, break_id
limit {{ var('top_n', 50) | int }}
