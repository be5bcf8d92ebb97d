{#
  Daily report: per as-of date, leg, source and currency, one row per status present with its counts and amounts.
    leg = 'transaction': ledger <-> processor (int_transaction_reconciliation); source = the processor.
          match_rate = share of the source+currency's items that are matched; fully_reconciled_rate = share that
          are matched AND funded (is_fully_reconciled).
    leg = 'payout':      processor payout <-> bank credit (int_payout_reconciliation); source = the processor, or
          the bank source for unexplained_bank_credit rows. match_rate = share of payouts funded.
  Each run replaces its own as-of date's rows.
  Conservation (tests/assert_ledger_total_conserved.sql): per as-of date and currency, sum(ledger_amount_minor)
  over the transaction leg = the total of the posted ledger entries visible as of that date.
#}
{{ config(
    materialized='incremental',
    full_refresh=false,
    delete_where='as_of_date = {{ as_of_date() }}',
    post_hook=["{{ recon_index(['as_of_date', 'leg', 'source', 'currency']) }}"]
) }}

with transaction_leg as (
    select
        'transaction' as leg,
        processor as source,
        processor,
        currency,
        status,
        count(*) as item_count,
        sum(case when ledger_entry_id is not null then 1 else 0 end) as ledger_entry_count,
        coalesce(sum(ledger_amount_minor), 0) as ledger_amount_minor,
        coalesce(sum(processor_amount_minor), 0) as processor_amount_minor,
        coalesce(sum(fee_minor), 0) as fee_minor,
        sum(is_fully_reconciled) as fully_reconciled_count,
        0 as expected_amount_minor,
        0 as bank_amount_minor,
        case when status = 'matched' then 1 else 0 end as is_success
    from {{ ref('int_transaction_reconciliation') }}
    group by processor, currency, status
),

payout_leg as (
    select
        'payout' as leg,
        coalesce(processor, bank_source) as source,
        processor,
        currency,
        status,
        count(*) as item_count,
        0 as ledger_entry_count,
        0 as ledger_amount_minor,
        0 as processor_amount_minor,
        0 as fee_minor,
        sum(case when status = 'funded' then 1 else 0 end) as fully_reconciled_count,
        coalesce(sum(expected_amount_minor), 0) as expected_amount_minor,
        coalesce(sum(bank_amount_minor), 0) as bank_amount_minor,
        case when status = 'funded' then 1 else 0 end as is_success
    from {{ ref('int_payout_reconciliation') }}
    group by coalesce(processor, bank_source), processor, currency, status
),

per_status as (
    select * from transaction_leg
    union all
    select * from payout_leg
)

select
    {{ as_of_date() }} as as_of_date,
    {{ recon_text('leg', 16) }} as leg,
    {{ recon_text('source', 48) }} as source,
    {{ recon_text('processor', 16) }} as processor,
    {{ recon_text('currency', 3) }} as currency,
    {{ recon_text('status', 32) }} as status,
    {{ recon_int('item_count') }} as item_count,
    {{ recon_int('ledger_entry_count') }} as ledger_entry_count,
    {{ recon_int('ledger_amount_minor') }} as ledger_amount_minor,
    {{ recon_int('processor_amount_minor') }} as processor_amount_minor,
    {{ recon_int('fee_minor') }} as fee_minor,
    {{ recon_int('expected_amount_minor') }} as expected_amount_minor,
    {{ recon_int('bank_amount_minor') }} as bank_amount_minor,
    {{ recon_int('fully_reconciled_count') }} as fully_reconciled_count,
    cast(
        sum(is_success * item_count) over (partition by leg, source, currency)
        / sum(item_count) over (partition by leg, source, currency)
        as decimal(9, 6)
    ) as match_rate,
    cast(
        sum(fully_reconciled_count) over (partition by leg, source, currency)
        / sum(item_count) over (partition by leg, source, currency)
        as decimal(9, 6)
    ) as fully_reconciled_rate,
    utc_timestamp(6) as processed_at
from per_status
