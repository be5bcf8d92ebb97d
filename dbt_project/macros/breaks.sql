{#
  Breaks (contract 2.3): every item that is not matched (transaction leg) or not funded (payout leg) is a break.
  A break's identity is its leg and item (break_id = md5(leg|recon_key)): the same item keeps the same break_id
  across runs, re-runs and reason changes (pending_processor -> missing_in_processor is one break).
#}

{# The columns of one break's data state (int_reconciliation_breaks, fct_reconciliation_breaks_history). #}
{% macro break_columns() -%}
    {{ return(['leg', 'item_key', 'reason', 'side', 'processor', 'reference', 'ledger_entry_id', 'business_date',
               'amount_minor', 'currency']) }}
{%- endmacro %}

{# ISO 4217 minor-unit exponent of a currency code expression; the lists mirror plugins/recon/currencies.py
   (a unit test keeps them equal). #}
{% macro currency_exponent(expr) -%}
    {%- set exponent_0 = 'BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF' -%}
    {%- set exponent_3 = 'BHD IQD JOD KWD LYD OMR TND' -%}
    {%- set exponent_4 = 'CLF UYW' -%}
    case
        when {{ expr }} in ('{{ exponent_0.split() | join("', '") }}') then 0
        when {{ expr }} in ('{{ exponent_3.split() | join("', '") }}') then 3
        when {{ expr }} in ('{{ exponent_4.split() | join("', '") }}') then 4
        else 2
    end
{%- endmacro %}

{#
  The priority thresholds (var break_priority in dbt_project.yml), validated: a typo fails the run with a message
  instead of silently making every break P3.
#}
{% macro break_priority_config() -%}
    {%- set config = var('break_priority') -%}
    {%- set amounts = config.get('min_amount_major', {}) -%}
    {%- if 'default' not in amounts -%}
        {{ exceptions.raise_compiler_error("recon: var break_priority.min_amount_major needs a `default` entry") }}
    {%- endif -%}
    {%- for currency, pair in amounts.items() -%}
        {%- if pair is string or pair | length != 2 or (pair[0] | float) < (pair[1] | float) -%}
            {{ exceptions.raise_compiler_error("recon: var break_priority.min_amount_major." ~ currency ~
                " must be [P1 threshold, P2 threshold] with P1 >= P2, got " ~ pair) }}
        {%- endif -%}
    {%- endfor -%}
    {%- if (config.get('p1_min_age_days', 0) | int) < (config.get('p2_min_age_days', 0) | int) -%}
        {{ exceptions.raise_compiler_error("recon: var break_priority: p1_min_age_days must be >= p2_min_age_days") }}
    {%- endif -%}
    {{ return(config) }}
{%- endmacro %}

{# The amount threshold (major units) of `level` (0 = P1, 1 = P2) for a currency expression. #}
{% macro break_amount_threshold(currency, level) -%}
    {%- set amounts = break_priority_config()['min_amount_major'] -%}
    case {{ currency }}
    {%- for code, pair in amounts.items() if code != 'default' %}
        when '{{ code | upper }}' then {{ pair[level] | float }}
    {%- endfor %}
        else {{ amounts['default'][level] | float }}
    end
{%- endmacro %}

{#
  P1 when the amount (in major units of its currency) or the age reaches the P1 threshold, else P2 when either
  reaches P2, else P3. Breaks still within their grace period (pending_processor, pending_bank) are timing, not yet
  a problem: always P3.
#}
{% macro break_priority(amount_minor, currency, age_days, reason) -%}
    {%- set config = break_priority_config() -%}
    {%- set major = '(' ~ amount_minor ~ ') / pow(10, ' ~ currency_exponent(currency) ~ ')' -%}
    case
        when {{ reason }} in ('pending_processor', 'pending_bank') then 'P3'
        when {{ major }} >= {{ break_amount_threshold(currency, 0) }}
          or {{ age_days }} >= {{ config['p1_min_age_days'] | int }} then 'P1'
        when {{ major }} >= {{ break_amount_threshold(currency, 1) }}
          or {{ age_days }} >= {{ config['p2_min_age_days'] | int }} then 'P2'
        else 'P3'
    end
{%- endmacro %}

{% macro break_age_bucket(age_days) -%}
    case
        when {{ age_days }} <= 1 then '0-1'
        when {{ age_days }} <= 3 then '2-3'
        when {{ age_days }} <= 7 then '4-7'
        when {{ age_days }} <= 30 then '8-30'
        else '>30'
    end
{%- endmacro %}

{#
  Every break seen up to `as_of` (a SQL date expression), open or closed, with its lifecycle as of that date: the
  body of fct_reconciliation_breaks (as_of = the latest processed date), rpt_break_aging (the run's date) and
  analyses/breaks_as_of.sql (any date). A pure function of the break change log and the resolutions recorded up to
  `as_of`, so any past as-of date can be answered again.

  Per break:
    first_seen_as_of   the first as-of date it was broken
    opened_as_of       the start of its current (or last) episode: the date it (re)opened
    closed_as_of       the as-of date it was last found not broken (null while open)
    last_seen_as_of    the last processed as-of date it was broken (as_of while open)
    age_days           last_seen_as_of - opened_as_of
    times_opened       1, 2... (2 or more: it broke again after closing)
    lifecycle          open | reopened (open again after auto-resolution or after a resolution that no longer covers
                       it) | auto_resolved (later data cleared it) | resolved (a person's resolution covers its state)
  A resolution covers the break state it was recorded against (break_row_hash) from its as-of date on; any later
  change of the break (new reason or amount, closed and broken again) takes the cover away.
#}
{% macro breaks_as_of(as_of) -%}
with history as (
    select
        h.*,
        lag(h.is_removed) over (partition by h.break_id order by h.as_of_date) as previous_is_removed
    from {{ ref('fct_reconciliation_breaks_history') }} as h
    where h.as_of_date <= {{ as_of }}
),

episodes as (
    select
        break_id,
        min(case when is_removed = 0 then as_of_date end) as first_seen_as_of,
        max(case when is_removed = 0 and coalesce(previous_is_removed, 1) = 1 then as_of_date end) as opened_as_of,
        sum(case when is_removed = 0 and coalesce(previous_is_removed, 1) = 1 then 1 else 0 end) as times_opened
    from history
    group by break_id
),

latest as (
    -- each break's latest row: open when it is not a removal
    {{ latest_rows('history', '1 = 1', key='break_id') }}
),

last_state as (
    -- each break's latest open state (its reason, amount...), also for closed breaks
    {{ latest_rows('history', 'h.is_removed = 0', key='break_id') }}
),

runs as (
    select as_of_date, lag(as_of_date) over (order by as_of_date) as previous_as_of_date
    from {{ ref('rpt_reconciliation_runs') }}
    where as_of_date <= {{ as_of }}
),

resolutions as (
    -- each break's latest resolution recorded up to as_of
    select * from (
        select
            r.*,
            row_number() over (partition by r.break_id order by r.as_of_date desc, r.resolution_id desc) as row_rank
        from {{ ref('stg_recon__break_resolutions') }} as r
        where r.as_of_date <= {{ as_of }}
    ) as ranked
    where ranked.row_rank = 1
),

breaks as (
    select
        s.break_id,
        {%- for column in break_columns() %}
        s.{{ column }},
        {%- endfor %}
        s.row_hash,
        e.first_seen_as_of,
        e.opened_as_of,
        case when l.is_removed = 1 then l.as_of_date end as closed_as_of,
        case when l.is_removed = 1 then run.previous_as_of_date else {{ as_of }} end as last_seen_as_of,
        e.times_opened,
        l.is_removed as is_closed,
        -- the latest resolution covers the break's last open state and nothing changed since it was recorded
        case when r.break_id is not null and r.break_row_hash = s.row_hash and r.as_of_date >= s.as_of_date
             then 1 else 0 end as is_covered,
        r.resolution_id,
        r.reason_code as resolution_reason,
        r.note as resolution_note,
        r.resolved_by,
        r.resolved_at
    from last_state as s
    inner join episodes as e
        on e.break_id = s.break_id
    inner join latest as l
        on l.break_id = s.break_id
    left join runs as run
        on run.as_of_date = l.as_of_date
    left join resolutions as r
        on r.break_id = s.break_id
),

aged as (
    select
        breaks.*,
        datediff(last_seen_as_of, opened_as_of) as age_days
    from breaks
)

-- the break columns keep the types of int_reconciliation_breaks (through the change log); derived ones are cast
select
    {{ as_of }} as as_of_date,
    break_id,
    {%- for column in break_columns() %}
    {{ column }},
    {%- endfor %}
    first_seen_as_of,
    opened_as_of,
    last_seen_as_of,
    closed_as_of,
    {{ recon_int('age_days') }} as age_days,
    {{ recon_text(break_age_bucket('age_days'), 8) }} as age_bucket,
    {{ recon_text(break_priority('amount_minor', 'currency', 'age_days', 'reason'), 2) }} as priority,
    {{ recon_text("case
        when is_closed = 0 and is_covered = 1 then 'resolved'
        when is_closed = 0 and (times_opened > 1 or resolution_id is not null) then 'reopened'
        when is_closed = 0 then 'open'
        when is_covered = 1 then 'resolved'
        else 'auto_resolved'
    end", 16) }} as lifecycle,
    {{ recon_int('times_opened') }} as times_opened,
    resolution_id,
    resolution_reason,
    resolution_note,
    resolved_by,
    resolved_at,
    row_hash
from aged
{%- endmacro %}
