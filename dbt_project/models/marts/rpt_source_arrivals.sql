{#
  Per as-of date and declared source: did its data for that date arrive (status published), or is it missing
  (no file by the YAML's expected_by, so its items are pending, never matched), awaited or not ingested yet.
  Each run replaces its own date's rows, from what check_sources recorded just before dbt ran.
#}
{{ config(
    materialized='incremental',
    full_refresh=false,
    delete_where='as_of_date = {{ as_of_date() }}'
) }}

select
    as_of_date,
    source,
    kind,
    role,
    status,
    arrival,
    expected_by,
    first_received_at,
    files,
    rows_published,
    detail,
    checked_at,
    utc_timestamp(6) as processed_at
from {{ ref('stg_recon__source_arrivals') }}
