{#
  Stripe's itemized payout reconciliation lines as of D (files with business date <= D), in the normalized
  processor-line shape (macro processor_line_columns) plus Stripe's own columns.
  Stripe already signs amounts from the balance's point of view (refunds, disputes negative), which is the
  normalized convention: no sign change here.
  A balance transaction is one line: if a later report repeats a balance_transaction_id, its first delivery
  (earliest business date) has delivery_rank 1 and the repeats 2, 3...; int_processor_lines keeps rank 1 only, so a
  re-delivered line is never mistaken for a duplicate_in_processor. Every landed row stays here (the gate counts
  them per file).
#}
with report_lines as (
    select
        src.*,
        {{ delivery_rank(recon_id('src.balance_transaction_id')) }} as delivery_rank
    from {{ source('stripe', 'src_stripe_payout_lines') }} as src
    where src.business_date <= {{ as_of_date() }}
)

select
    {{ recon_text("'stripe'", 16) }} as processor,
    {{ recon_text("'stripe'", 48) }} as source,
    {{ recon_id('balance_transaction_id') }} as line_id,
    {{ recon_text('reporting_category', 32) }} as line_type,
    {{ recon_text("case
        when reporting_category in ('charge', 'refund', 'dispute', 'dispute_reversal') then 'transaction'
        when reporting_category = 'fee' then 'fee'
        when reporting_category = 'payout' then 'payout'
        else 'adjustment'
    end", 16) }} as line_role,
    {{ recon_text("case reporting_category
        when 'charge' then 'capture'
        when 'refund' then 'refund'
        when 'dispute' then 'chargeback'
        when 'dispute_reversal' then 'chargeback_reversal'
    end", 32) }} as entry_type,
    {{ recon_id('source_id') }} as processor_reference,
    {{ recon_id('automatic_payout_id', 128) }} as payout_reference,
    {{ recon_id('automatic_payout_id', 128) }} as payout_token,
    {{ recon_text('upper(currency)', 3) }} as currency,
    {{ recon_text('upper(currency)', 3) }} as net_currency,
    {{ recon_int('gross_minor') }} as gross_minor,
    {{ recon_int('fee_minor') }} as fee_minor,
    {{ recon_int('net_minor') }} as net_minor,
    business_date,
    created_utc as created_at,
    {{ recon_text('description', 1024) }} as description,
    _file_id as file_id,
    _row_number as file_row_number,
    {{ recon_int('delivery_rank') }} as delivery_rank,
    -- Stripe-only columns
    automatic_payout_effective_at,
    available_on_utc,
    {{ recon_id('charge_id') }} as charge_id,
    {{ recon_id('payment_intent_id') }} as payment_intent_id,
    customer_facing_currency,
    customer_facing_amount_minor,
    _load_id as load_id
from report_lines
