{#
  Adyen settlement details report lines as of D (files with business date <= D), in the normalized processor-line
  shape (macro processor_line_columns) plus Adyen's own columns.

  Adyen writes unsigned amounts in debit/credit columns: gross = credit - debit (gross currency), net = credit -
  debit (net currency); fee = commission + markup + scheme fees + interchange (net currency).
  Types (contract 1.4): Settled, Refunded, Chargeback, ChargebackReversed are transactions (match key: Psp Reference
  for Settled, Modification Reference for the others); Fee is a fee line; MerchantPayout is the payout itself (its
  net debit is what the bank should receive); any other type (MiscCosts, Balancetransfer, DepositCorrection...) is an
  adjustment: counted and part of the payout, never matched to the ledger.
  The report has no line id: line_id = md5(merchant account | batch | type | psp | modification reference | n),
  n numbering identical rows within a file, so a batch re-delivered in another file is recognised (delivery_rank 2)
  while two identical rows in one batch stay two lines (a duplicate_in_processor).
  A payout is (merchant account, batch number, net currency): payout_reference '<merchant account>:<batch>', and the
  bank credit carries the batch number (payout_token).
#}
with numbered as (
    select
        src.*,
        row_number() over (
            partition by src._file_id, src.merchant_account, src.batch_number, src.type, src.psp_reference,
                src.modification_reference
            order by src._row_number
        ) as occurrence
    from {{ source('adyen', 'src_adyen_settlement_lines') }} as src
    where src.business_date <= {{ as_of_date() }}
),

identified as (
    select
        numbered.*,
        md5(concat_ws('|', merchant_account, cast(batch_number as char), type, coalesce(psp_reference, ''),
            coalesce(modification_reference, ''), cast(occurrence as char))) as adyen_line_id
    from numbered
),

report_lines as (
    select
        identified.*,
        {{ delivery_rank('adyen_line_id') }} as delivery_rank
    from identified
)

select
    {{ recon_text("'adyen'", 16) }} as processor,
    {{ recon_text("'adyen'", 48) }} as source,
    {{ recon_id('adyen_line_id') }} as line_id,
    {{ recon_text('type', 32) }} as line_type,
    {{ recon_text("case
        when type in ('Settled', 'Refunded', 'Chargeback', 'ChargebackReversed') then 'transaction'
        when type = 'Fee' then 'fee'
        when type = 'MerchantPayout' then 'payout'
        else 'adjustment'
    end", 16) }} as line_role,
    {{ recon_text("case type
        when 'Settled' then 'capture'
        when 'Refunded' then 'refund'
        when 'Chargeback' then 'chargeback'
        when 'ChargebackReversed' then 'chargeback_reversal'
    end", 32) }} as entry_type,
    {{ recon_id("case when type = 'Settled' then psp_reference
                     else coalesce(modification_reference, psp_reference) end") }} as processor_reference,
    {{ recon_id("concat(merchant_account, ':', cast(batch_number as char))", 128) }} as payout_reference,
    {{ recon_id('cast(batch_number as char)', 128) }} as payout_token,
    {{ recon_text('upper(coalesce(gross_currency, net_currency))', 3) }} as currency,
    {{ recon_text('upper(net_currency)', 3) }} as net_currency,
    {{ recon_int('coalesce(gross_credit_minor, 0) - coalesce(gross_debit_minor, 0)') }} as gross_minor,
    {{ recon_int('coalesce(commission_minor, 0) + coalesce(markup_minor, 0) + coalesce(scheme_fees_minor, 0)
                  + coalesce(interchange_minor, 0)') }} as fee_minor,
    {{ recon_int('coalesce(net_credit_minor, 0) - coalesce(net_debit_minor, 0)') }} as net_minor,
    business_date,
    created_utc as created_at,
    {{ recon_text("concat_ws(' ', type, merchant_reference, payment_method)", 1024) }} as description,
    _file_id as file_id,
    _row_number as file_row_number,
    {{ recon_int('delivery_rank') }} as delivery_rank,
    -- Adyen-only columns
    company_account,
    merchant_account,
    {{ recon_id('psp_reference') }} as psp_reference,
    {{ recon_id('modification_reference') }} as modification_reference,
    merchant_reference,
    payment_method,
    creation_date_local,
    time_zone,
    exchange_rate,
    batch_number,
    _load_id as load_id
from report_lines
