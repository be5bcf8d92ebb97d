{#
  The US bank's BAI2 transaction details (16 records, 88 continuations joined) as of D: statement files with
  business date <= D, in the normalized bank-line shape (macro bank_line_columns) plus BAI2's own columns.
  BAI2 amounts are unsigned minor units; type codes 100-399 are credits, 400-699 debits (the parser sets
  direction). Every BAI2 detail is booked. Value date: the funds-type V date when given, else the group's as-of
  date. line_id: the bank reference when the bank gives one, else the line's place in its file; a line delivered
  again in a later statement keeps delivery_rank 2+ and is ignored by the reconciliation.
#}
with statement_lines as (
    select
        src.*,
        md5(concat_ws('|', 'bank_us', account_number, currency,
            coalesce(bank_reference, concat(cast(business_date as char), '#', cast(account_section as char), '#',
                cast(_row_number as char))))) as bank_line_id
    from {{ source('bank_us', 'src_bank_us_statement_lines') }} as src
    where src.business_date <= {{ as_of_date() }}
),

ranked as (
    select
        statement_lines.*,
        {{ delivery_rank('bank_line_id') }} as delivery_rank
    from statement_lines
)

select
    {{ recon_text("'bank_us'", 48) }} as source,
    {{ recon_id('bank_line_id') }} as line_id,
    {{ recon_text('account_number', 64) }} as account_id,
    {{ recon_text('upper(currency)', 3) }} as currency,
    {{ recon_text('direction', 8) }} as direction,
    {{ recon_int("case when direction = 'debit' then -amount_minor else amount_minor end") }} as amount_minor,
    {{ recon_int('1') }} as is_booked,
    {{ recon_text("'BOOK'", 8) }} as entry_status,
    coalesce(value_date, group_as_of_date) as value_date,
    {{ recon_id('bank_reference', 128) }} as bank_reference,
    {{ recon_id('bank_reference', 128) }} as reference_1,
    {{ recon_id('customer_reference', 128) }} as reference_2,
    {{ recon_id('text', 2048) }} as reference_3,
    business_date,
    _file_id as file_id,
    _row_number as file_row_number,
    {{ recon_int('delivery_rank') }} as delivery_rank,
    -- BAI2-only columns
    sender_id,
    group_as_of_date,
    account_section,
    type_code,
    funds_type,
    {{ recon_text('customer_reference', 128) }} as customer_reference,
    {{ recon_text('text', 2048) }} as text,
    _load_id as load_id
from ranked
