{#
  The breaks as of the run's date D (contract 2.3): every transaction-leg item that is not matched and every
  payout-leg item that is not funded, one row each. break_id = md5(leg|recon_key): stable across runs and re-runs.

  side: where the break is -
    processor            the processor has no line (yet) or too many: pending_processor, missing_in_processor,
                         duplicate_in_processor; its payout line disagrees with its own lines (payout
                         amount_mismatch with no bank credit); or bank money that no payout explains:
                         unexplained_bank_credit
    ledger               the ledger has no entry or too many: missing_in_ledger, duplicate_in_ledger
    ledger_vs_processor  both sides have it and disagree: amount_mismatch, currency_mismatch
    bank                 no bank credit (yet) for a payout: pending_bank, missing_in_bank
    processor_vs_bank    the bank credit differs from the payout: amount_mismatch (payout leg)
  amount_minor (>= 0): the money at stake - the difference for an amount mismatch (payout: bank credit, else the
  processor's reported payout, against the expected amount), otherwise the item's amount (the
  ledger amount, the processor amount when there is no ledger entry, the expected payout, the unexplained credit).
#}
{{ config(post_hook=["{{ recon_index(['break_id']) }}"]) }}

with transaction_breaks as (
    select
        'transaction' as leg,
        recon_key as item_key,
        status as reason,
        case
            when status in ('missing_in_ledger', 'duplicate_in_ledger') then 'ledger'
            when status in ('amount_mismatch', 'currency_mismatch') then 'ledger_vs_processor'
            else 'processor'
        end as side,
        processor,
        processor_reference as reference,
        ledger_entry_id,
        business_date,
        case
            when status = 'amount_mismatch' then abs(ledger_amount_minor - processor_amount_minor)
            when ledger_amount_minor is null then abs(processor_amount_minor)
            else abs(ledger_amount_minor)
        end as amount_minor,
        case when ledger_amount_minor is null then processor_currency else currency end as currency
    from {{ ref('int_transaction_reconciliation') }}
    where status <> 'matched'
),

payout_breaks as (
    select
        'payout' as leg,
        recon_key as item_key,
        status as reason,
        case
            when status = 'unexplained_bank_credit' then 'processor'
            when status = 'amount_mismatch' and bank_amount_minor is null then 'processor'
            when status = 'amount_mismatch' then 'processor_vs_bank'
            else 'bank'
        end as side,
        processor,
        coalesce(payout_reference, bank_reference) as reference,
        cast(null as char) as ledger_entry_id,
        coalesce(payout_date, value_date) as business_date,
        case
            -- the bank credit differs, or (no credit yet) the processor's own payout line differs from its lines
            when status = 'amount_mismatch'
                then abs(expected_amount_minor - coalesce(bank_amount_minor, reported_amount_minor))
            when status = 'unexplained_bank_credit' then abs(bank_amount_minor)
            else abs(expected_amount_minor)
        end as amount_minor,
        currency
    from {{ ref('int_payout_reconciliation') }}
    where status <> 'funded'
),

breaks as (
    select * from transaction_breaks
    union all
    select * from payout_breaks
),

typed as (
    select
        {{ recon_text("md5(concat(leg, '|', item_key))", 32) }} as break_id,
        {{ recon_text('leg', 16) }} as leg,
        {{ recon_text('item_key', 32) }} as item_key,
        {{ recon_text('reason', 32) }} as reason,
        {{ recon_text('side', 24) }} as side,
        {{ recon_text('processor', 16) }} as processor,
        {{ recon_id('reference', 128) }} as reference,
        {{ recon_id('ledger_entry_id') }} as ledger_entry_id,
        business_date,
        {{ recon_int('amount_minor') }} as amount_minor,
        {{ recon_text('currency', 3) }} as currency
    from breaks
)

select
    typed.*,
    {{ recon_text(recon_row_hash(columns=break_columns()), 32) }} as row_hash
from typed
