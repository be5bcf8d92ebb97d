{#
  A change log of a per-as-of-date reconciliation (fct_*_history models): a row for an item only when it changed
  since the previous as-of date, so storage grows with changes, not with days x items.

  `current` is the relation holding the run's items (`key`, `columns`, row_hash); `columns` the item columns;
  `key` the item's stable identity column (recon_key; break_id for the breaks).
  For the run's as-of date D the model writes (and replaces any rows a previous run wrote for D: delete_where):
    - a row for every item whose row_hash differs from its latest row before D, or that has no row before D, or
      whose latest row before D is a removal;
    - a removal row (is_removed = 1, the item's last columns) for every item whose latest row before D is not a
      removal and that is absent as of D (e.g. its ledger entry was voided);
    - when D is re-run while later dates were already processed: "pin" rows at the next processed date N > D for
      the items whose answer at D changes and that have no row at N, carrying the answer N showed before. Every
      processed date keeps the answer of its own last run, so re-running an old date never changes what later
      dates (and the latest-state fct_ models) show.

  State as of any processed date X: per recon_key the row with the greatest as_of_date <= X, unless it is a removal.
  The calling model needs: materialized='incremental', full_refresh=false,
  delete_where='as_of_date = {{ as_of_date() }}' and `-- depends_on: {{ ref('rpt_reconciliation_runs') }}`.
#}
{% macro change_log(current, columns, key='recon_key') -%}
{%- set d = as_of_date() %}

with current_items as (
    select
        {{ d }} as as_of_date,
        {{ recon_item_select('i', columns, key) }},
        {{ recon_int('0') }} as is_removed
    from {{ current }} as i
)

{% if is_incremental() %}
,

latest_before as (
    -- each item's latest row before D
    {{ latest_rows(this, 'h.as_of_date < ' ~ d, key) }}
),

changed_items as (
    select c.*
    from current_items as c
    left join latest_before as p
        on p.{{ key }} = c.{{ key }}
    where p.{{ key }} is null
       or p.is_removed = 1
       or p.row_hash <> c.row_hash
),

removed_items as (
    select
        {{ d }} as as_of_date,
        {{ recon_item_select('p', columns, key) }},
        {{ recon_int('1') }} as is_removed
    from latest_before as p
    left join current_items as c
        on c.{{ key }} = p.{{ key }}
    where c.{{ key }} is null
      and p.is_removed = 0
),

-- Re-running an earlier date: keep the later dates' answers (see the header).
next_run as (
    select min(as_of_date) as as_of_date
    from {{ ref('rpt_reconciliation_runs') }}
    where as_of_date > {{ d }}
),

shown_before as (
    -- the items as of D as the log stood before this run (latest row <= D, removals excluded)
    select latest.*
    from ({{ latest_rows(this, 'h.as_of_date <= ' ~ d, key) }}) as latest
    where latest.is_removed = 0
),

rows_at_next as (
    select h.{{ key }}
    from {{ this }} as h
    inner join next_run as n
        on h.as_of_date = n.as_of_date
),

pinned_items as (
    -- shown before, now changed or gone: the next date keeps showing the old answer
    select
        n.as_of_date,
        {{ recon_item_select('o', columns, key) }},
        {{ recon_int('0') }} as is_removed
    from shown_before as o
    inner join next_run as n
        on n.as_of_date is not null
    left join current_items as c
        on c.{{ key }} = o.{{ key }}
    left join rows_at_next as x
        on x.{{ key }} = o.{{ key }}
    where x.{{ key }} is null
      and (c.{{ key }} is null or c.row_hash <> o.row_hash)

    union all

    -- not shown before, present now: the next date keeps not showing it
    select
        n.as_of_date,
        {{ recon_item_select('c', columns, key) }},
        {{ recon_int('1') }} as is_removed
    from current_items as c
    inner join next_run as n
        on n.as_of_date is not null
    left join shown_before as o
        on o.{{ key }} = c.{{ key }}
    left join rows_at_next as x
        on x.{{ key }} = c.{{ key }}
    where o.{{ key }} is null
      and x.{{ key }} is null
)

select * from changed_items
union all
select * from removed_items
union all
select * from pinned_items

{% else %}

select * from current_items

{% endif %}
{%- endmacro %}

{#
  Each item's latest row of a change log among the rows meeting `condition` (on alias h), removals included:
  the building block of every "state as of X" query.
#}
{% macro latest_rows(history, condition, key='recon_key') -%}
    select ranked.*
    from (
        select
            h.*,
            row_number() over (partition by h.{{ key }} order by h.as_of_date desc) as row_rank
        from {{ history }} as h
        where {{ condition }}
    ) as ranked
    where ranked.row_rank = 1
{%- endmacro %}

{#
  The items of a change log as of `as_of` (a SQL date expression): per key (recon_key) the latest row with
  as_of_date <= as_of, removals excluded; changed_as_of_date is when the item took these values.
#}
{% macro state_as_of(history, columns, as_of, key='recon_key') -%}
select
    {{ as_of }} as as_of_date,
    s.{{ key }},
    {%- for column in columns %}
    s.{{ column }},
    {%- endfor %}
    s.row_hash,
    s.as_of_date as changed_as_of_date
from ({{ latest_rows(history, 'h.as_of_date <= ' ~ as_of, key) }}) as s
where s.is_removed = 0
{%- endmacro %}

{#
  The latest-state view of a change log (fct_transaction_reconciliation, fct_payout_reconciliation): the items as of
  the LATEST as-of date processed (max(as_of_date) of rpt_reconciliation_runs), whatever date the last run was for.
#}
{% macro latest_state(history, columns, key='recon_key') -%}
{{ state_as_of(history, columns, '(select max(as_of_date) from ' ~ ref('rpt_reconciliation_runs') ~ ')', key) }}
{%- endmacro %}

{#
  Test body: the change log is lossless - the state it reconstructs for the run's as-of date D (per {{ key }} the
  latest row with as_of_date <= D, removals excluded) is exactly the run's items (same keys, same row_hash).
  Returns the items that differ, with the side they come from.
#}
{% macro history_reproduces(history, current, key='recon_key') -%}
with reconstructed as (
    select latest.{{ key }}, latest.row_hash
    from ({{ latest_rows(history, 'h.as_of_date <= ' ~ as_of_date(), key) }}) as latest
    where latest.is_removed = 0
),

computed as (
    select {{ key }}, row_hash
    from {{ current }}
)

select 'only_in_history_or_different' as problem, r.{{ key }}, r.row_hash
from reconstructed as r
left join computed as c
    on c.{{ key }} = r.{{ key }}
   and c.row_hash = r.row_hash
where c.{{ key }} is null

union all

select 'only_in_reconciliation_or_different' as problem, c.{{ key }}, c.row_hash
from computed as c
left join reconstructed as r
    on r.{{ key }} = c.{{ key }}
   and r.row_hash = c.row_hash
where r.{{ key }} is null
{%- endmacro %}
