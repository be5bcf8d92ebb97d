{#
  Break counts and amounts per as-of date, leg, reason, lifecycle, priority, age bucket and currency (what
  `recon summary --as-of DATE` prints): macro breaks_as_of for the run's date. Each run replaces its own date's
  rows; `recon breaks resolve` refreshes the latest date's.
#}
{{ config(
    materialized='incremental',
    full_refresh=false,
    delete_where='as_of_date = {{ as_of_date() }}',
    post_hook=["{{ recon_index(['as_of_date', 'lifecycle']) }}"]
) }}

with breaks as (
    {{ breaks_as_of(as_of_date()) }}
)

select
    as_of_date,
    leg,
    reason,
    lifecycle,
    priority,
    age_bucket,
    currency,
    {{ recon_int('count(*)') }} as break_count,
    {{ recon_int('sum(amount_minor)') }} as amount_minor,
    utc_timestamp(6) as processed_at
from breaks
group by as_of_date, leg, reason, lifecycle, priority, age_bucket, currency
