{#
  The EU bank's camt.053 entries (Ntry) as of D: statement files with business date <= D, in the normalized
  bank-line shape (macro bank_line_columns) plus camt's own columns.
  Only booked entries (Sts BOOK) that are not reversals count as money received (is_booked = 1); pending and
  informational entries stay here, counted, and are never matched. Value date: ValDt, else BookgDt.
  line_id: the bank's AcctSvcrRef (else NtryRef, else the entry's place in its file); a line delivered again in a
  later statement keeps delivery_rank 2+ and is ignored by the reconciliation.
#}
with statement_lines as (
    select
        src.*,
        md5(concat_ws('|', 'bank_eu', account_id, currency,
            coalesce(bank_reference, entry_reference, concat(cast(business_date as char), '#',
                cast(statement_sequence as char), '#', cast(entry_sequence as char))))) as bank_line_id
    from {{ source('bank_eu', 'src_bank_eu_statement_lines') }} as src
    where src.business_date <= {{ as_of_date() }}
),

ranked as (
    select
        statement_lines.*,
        {{ delivery_rank('bank_line_id') }} as delivery_rank
    from statement_lines
)

select
    {{ recon_text("'bank_eu'", 48) }} as source,
    {{ recon_id('bank_line_id') }} as line_id,
    {{ recon_text('account_id', 64) }} as account_id,
    {{ recon_text('upper(currency)', 3) }} as currency,
    {{ recon_text('direction', 8) }} as direction,
    {{ recon_int("case when direction = 'debit' then -amount_minor else amount_minor end") }} as amount_minor,
    {{ recon_int("case when entry_status = 'BOOK' and is_reversal = 0 then 1 else 0 end") }} as is_booked,
    {{ recon_text('entry_status', 8) }} as entry_status,
    coalesce(value_date, booking_date) as value_date,
    {{ recon_id('bank_reference', 128) }} as bank_reference,
    {{ recon_id('bank_reference', 128) }} as reference_1,
    {{ recon_id('end_to_end_id', 1024) }} as reference_2,
    {{ recon_id('remittance_text', 2048) }} as reference_3,
    business_date,
    _file_id as file_id,
    _row_number as file_row_number,
    {{ recon_int('delivery_rank') }} as delivery_rank,
    -- camt-only columns
    message_id,
    statement_id,
    statement_sequence,
    entry_sequence,
    entry_reference,
    is_reversal,
    booking_date,
    {{ recon_text('end_to_end_id', 1024) }} as end_to_end_id,
    {{ recon_text('remittance_text', 2048) }} as remittance_text,
    additional_info,
    _load_id as load_id
from ranked
