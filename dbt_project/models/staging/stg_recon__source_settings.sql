{#
  Per-source settings mirrored from dags/sources/*.yml (the YAML stays the one place they are set).
#}
select
    {{ recon_text('source', 48) }} as source,
    {{ recon_text('kind', 16) }} as kind,
    {{ recon_text('processor', 16) }} as processor,
    {{ recon_int('grace_days') }} as grace_days,
    {{ recon_int('amount_tolerance_minor') }} as amount_tolerance_minor
from {{ source('recon', 'source_settings') }}
