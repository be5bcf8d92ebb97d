{#
  The product ledger as of D: for every entry, its latest version among the versions visible as of D, i.e. with
  date(updated_at) <= D and business_date <= D. Voided entries are kept here (status = 'voided'); the
  reconciliation only takes posted ones. A version updated after D is invisible, so re-running D later gives the
  same answer even if the entry was voided since.
#}
{{ config(
    materialized='table',
    post_hook=["{{ recon_index(['processor', 'processor_reference', 'entry_type']) }}"]
) }}

with visible_versions as (
    select
        src.*,
        row_number() over (partition by {{ recon_id('src.entry_id') }} order by src.updated_at desc) as version_rank
    from {{ source('ledger', 'src_ledger_entries') }} as src
    where src.updated_at < date_add({{ as_of_date() }}, interval 1 day)
      and src.business_date <= {{ as_of_date() }}
)

select
    {{ recon_id('entry_id') }} as entry_id,
    {{ recon_text('entry_type', 32) }} as entry_type,
    {{ recon_text('processor', 16) }} as processor,
    {{ recon_id('processor_reference') }} as processor_reference,
    account_id,
    merchant_id,
    {{ recon_int('amount_minor') }} as amount_minor,
    {{ recon_text('upper(currency)', 3) }} as currency,
    {{ recon_text('status', 16) }} as status,
    occurred_at,
    updated_at,
    business_date,
    _file_id as file_id,
    _row_number as file_row_number,
    _load_id as load_id
from visible_versions
where version_rank = 1
