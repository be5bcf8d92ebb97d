{#
  Daily report: per as-of date, processor (the source) and currency, one row per status present with its item
  count and amounts, and the processor+currency's match rate. Each run replaces its own as-of date's rows.
  Conservation (tests/assert_ledger_total_conserved.sql): per as-of date and currency, sum(ledger_amount_minor)
  over all rows = the total of the posted ledger entries visible as of that date.
#}
{{ config(
    materialized='incremental',
    full_refresh=false,
    delete_where='as_of_date = {{ as_of_date() }}',
    post_hook=["{{ recon_index(['as_of_date', 'processor', 'currency']) }}"]
) }}

with per_status as (
    select
        processor,
        currency,
        status,
        count(*) as item_count,
        sum(case when ledger_entry_id is not null then 1 else 0 end) as ledger_entry_count,
        coalesce(sum(ledger_amount_minor), 0) as ledger_amount_minor,
        coalesce(sum(processor_amount_minor), 0) as processor_amount_minor,
        coalesce(sum(fee_minor), 0) as fee_minor,
        sum(is_fully_reconciled) as fully_reconciled_count
    from {{ ref('int_transaction_reconciliation') }}
    group by processor, currency, status
)

select
    {{ as_of_date() }} as as_of_date,
    processor,
    currency,
    status,
    {{ recon_int('item_count') }} as item_count,
    {{ recon_int('ledger_entry_count') }} as ledger_entry_count,
    {{ recon_int('ledger_amount_minor') }} as ledger_amount_minor,
    {{ recon_int('processor_amount_minor') }} as processor_amount_minor,
    {{ recon_int('fee_minor') }} as fee_minor,
    {{ recon_int('fully_reconciled_count') }} as fully_reconciled_count,
    cast(
        sum(case when status = 'matched' then item_count else 0 end) over (partition by processor, currency)
        / sum(item_count) over (partition by processor, currency)
        as decimal(9, 6)
    ) as match_rate,
    utc_timestamp(6) as processed_at
from per_status
