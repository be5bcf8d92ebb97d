{#
  Manual resolutions of breaks, as recorded by `recon breaks resolve` (append-only: never updated or deleted).
  as_of_date: the latest processed as-of date when the resolution was recorded; break_row_hash: the break state it
  resolves (a later change of the break reopens it).
#}
select
    {{ recon_int('resolution_id') }} as resolution_id,
    {{ recon_text('break_id', 32) }} as break_id,
    as_of_date,
    {{ recon_text('break_row_hash', 32) }} as break_row_hash,
    {{ recon_text('reason_code', 32) }} as reason_code,
    {{ recon_text('note', 2000) }} as note,
    {{ recon_text('resolved_by', 128) }} as resolved_by,
    resolved_at
from {{ source('recon', 'break_resolutions') }}
