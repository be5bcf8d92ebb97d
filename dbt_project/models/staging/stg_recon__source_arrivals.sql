{#
  What reconcile_daily's check_sources found for each declared source on the run's as-of date D (raw
  source_arrivals, written by plugins/recon/reconcile.py before dbt runs): published, missing (no file by the
  source's expected_by: its items stay pending), waiting, no_file or not_run, with the expected time and what landed.
#}
select
    as_of_date,
    {{ recon_text('source', 48) }} as source,
    {{ recon_text('kind', 16) }} as kind,
    {{ recon_text('role', 16) }} as role,
    {{ recon_text('status', 16) }} as status,
    {{ recon_text('arrival', 16) }} as arrival,
    expected_by,
    first_received_at,
    {{ recon_int('files') }} as files,
    {{ recon_int('rows_published') }} as rows_published,
    {{ recon_text('detail', 4000) }} as detail,
    checked_at
from {{ source('recon', 'source_arrivals') }}
where as_of_date = {{ as_of_date() }}
