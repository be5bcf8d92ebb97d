{#
  Per-source settings mirrored from dags/sources/*.yml (the YAML stays the one place they are set).
  role: ledger | processor | bank. Processor sources carry the reconciliation tolerances of their processor.
#}
select
    {{ recon_text('source', 48) }} as source,
    {{ recon_text('kind', 16) }} as kind,
    {{ recon_text('role', 16) }} as role,
    {{ recon_text('processor', 16) }} as processor,
    {{ recon_int('grace_days') }} as grace_days,
    {{ recon_int('amount_tolerance_minor') }} as amount_tolerance_minor,
    {{ recon_int('bank_grace_days') }} as bank_grace_days,
    {{ recon_int('value_date_window_days') }} as value_date_window_days,
    {{ recon_id('payout_reference_pattern', 255) }} as payout_reference_pattern,
    {{ recon_id('payout_token_pattern', 255) }} as payout_token_pattern
from {{ source('recon', 'source_settings') }}
