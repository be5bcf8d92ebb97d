{#
  The transaction reconciliation as of D (contract 2.1): one row per posted ledger entry, plus one row per
  processor transaction line whose key no posted ledger entry has.

  Match key: (processor, processor_reference, entry_type). Per key, L = posted ledger entries, P = processor lines:
    L >= 2                  -> every ledger entry: duplicate_in_ledger
    L = 1, P >= 2           -> duplicate_in_processor
    L = 1, P = 1            -> currency_mismatch | amount_mismatch (beyond the source's tolerance) | matched
    L = 1, P = 0            -> pending_processor while D - business_date <= grace days, then missing_in_processor
    L = 0                   -> one missing_in_ledger row per processor line
  Processor amounts are sign-adjusted to compare with the (positive) ledger amount: gross for capture and
  chargeback_reversal, -gross for refund and chargeback (gross currency: Adyen may pay out in another currency).
  payout_status comes from the payout leg (int_payout_reconciliation) of the key's first line: funded,
  payout_amount_mismatch (the payout's amount_mismatch), pending_bank or missing_in_bank; not_applicable without a
  line. is_fully_reconciled = matched and funded.
#}
{{ config(post_hook=["{{ recon_index(['recon_key']) }}"]) }}

{%- set d = as_of_date() %}

with ledger as (
    select entry_id, entry_type, processor, processor_reference, amount_minor, currency, business_date
    from {{ ref('stg_ledger__entries') }}
    where status = 'posted'
),

ledger_keys as (
    select processor, processor_reference, entry_type, count(*) as ledger_count
    from ledger
    group by processor, processor_reference, entry_type
),

transaction_lines as (
    select
        processor,
        line_id,
        processor_reference,
        entry_type,
        currency,
        net_currency,
        payout_reference,
        business_date,
        fee_minor,
        case when entry_type in ('refund', 'chargeback') then -gross_minor else gross_minor end as amount_minor
    from {{ ref('int_processor_lines') }}
    where entry_type is not null
),

ranked_lines as (
    select
        transaction_lines.*,
        -- the key's first line: earliest delivery (file business date), then smallest line id
        row_number() over (
            partition by processor, processor_reference, entry_type
            order by business_date, line_id
        ) as delivery_rank,
        count(*) over (partition by processor, processor_reference, entry_type) as key_line_count,
        sum(amount_minor) over (partition by processor, processor_reference, entry_type) as key_amount_minor,
        sum(fee_minor) over (partition by processor, processor_reference, entry_type) as key_fee_minor
    from transaction_lines
),

line_keys as (
    -- per key: line count, summed (sign-adjusted) amount and fee; line id, currency, payout of its first line
    select
        processor,
        processor_reference,
        entry_type,
        key_line_count as line_count,
        key_amount_minor as amount_minor,
        key_fee_minor as fee_minor,
        currency,
        net_currency,
        line_id,
        payout_reference,
        business_date
    from ranked_lines
    where delivery_rank = 1
),

ledger_items as (
    select
        concat('L|', l.entry_id) as item_identity,
        l.business_date,
        l.processor,
        l.processor_reference,
        l.entry_id as ledger_entry_id,
        l.entry_type,
        l.amount_minor as ledger_amount_minor,
        p.amount_minor as processor_amount_minor,
        l.currency,
        p.currency as processor_currency,
        p.fee_minor,
        case
            when k.ledger_count >= 2 then 'duplicate_in_ledger'
            when p.line_count >= 2 then 'duplicate_in_processor'
            when p.line_count = 1 and p.currency <> l.currency then 'currency_mismatch'
            when p.line_count = 1
                 and abs(l.amount_minor - p.amount_minor)
                     > s.amount_tolerance_minor
                then 'amount_mismatch'
            when p.line_count = 1 then 'matched'
            when datediff({{ d }}, l.business_date) <= s.grace_days
                then 'pending_processor'
            else 'missing_in_processor'
        end as status,
        p.payout_reference,
        p.net_currency as payout_currency,
        p.line_id as processor_line_id,
        coalesce(p.line_count, 0) as processor_line_count,
        k.ledger_count as ledger_entry_count,
        p.business_date as processor_business_date
    from ledger as l
    inner join ledger_keys as k
        on k.processor = l.processor
       and k.processor_reference = l.processor_reference
       and k.entry_type = l.entry_type
    left join line_keys as p
        on p.processor = l.processor
       and p.processor_reference = l.processor_reference
       and p.entry_type = l.entry_type
    inner join {{ ref('int_processor_settings') }} as s
        on s.processor = l.processor
),

orphan_line_items as (
    select
        concat('P|', p.processor, '|', p.line_id) as item_identity,
        p.business_date,
        p.processor,
        p.processor_reference,
        cast(null as char) as ledger_entry_id,
        p.entry_type,
        cast(null as signed) as ledger_amount_minor,
        p.amount_minor as processor_amount_minor,
        p.currency,
        p.currency as processor_currency,
        p.fee_minor,
        'missing_in_ledger' as status,
        p.payout_reference,
        p.net_currency as payout_currency,
        p.line_id as processor_line_id,
        1 as processor_line_count,
        0 as ledger_entry_count,
        p.business_date as processor_business_date
    from transaction_lines as p
    left join ledger_keys as k
        on k.processor = p.processor
       and k.processor_reference = p.processor_reference
       and k.entry_type = p.entry_type
    where k.processor is null
),

items as (
    select * from ledger_items
    union all
    select * from orphan_line_items
),

with_payout as (
    -- the payout leg of the key's first line (int_payout_reconciliation); a line not (yet) in a payout waits for
    -- one like a payout of its own business date would
    select
        i.*,
        py.payout_date,
        case
            when i.processor_line_count = 0 then 'not_applicable'
            when py.status = 'funded' then 'funded'
            when py.status = 'amount_mismatch' then 'payout_amount_mismatch'
            when py.status is not null then py.status
            when datediff({{ d }}, i.processor_business_date)
                 <= s.bank_grace_days then 'pending_bank'
            else 'missing_in_bank'
        end as payout_status
    from items as i
    left join {{ ref('int_payout_reconciliation') }} as py
        on py.processor = i.processor
       and py.payout_reference = i.payout_reference
       and py.currency = i.payout_currency
    inner join {{ ref('int_processor_settings') }} as s
        on s.processor = i.processor
),

typed as (
    select
        {{ recon_text('md5(item_identity)', 32) }} as recon_key,
        business_date,
        {{ recon_text('processor', 16) }} as processor,
        {{ recon_id('processor_reference') }} as processor_reference,
        {{ recon_id('ledger_entry_id') }} as ledger_entry_id,
        {{ recon_text('entry_type', 32) }} as entry_type,
        {{ recon_int('ledger_amount_minor') }} as ledger_amount_minor,
        {{ recon_int('processor_amount_minor') }} as processor_amount_minor,
        {{ recon_text('currency', 3) }} as currency,
        {{ recon_text('processor_currency', 3) }} as processor_currency,
        {{ recon_int('fee_minor') }} as fee_minor,
        {{ recon_text('status', 32) }} as status,
        {{ recon_id('payout_reference', 128) }} as payout_reference,
        {{ recon_text('payout_status', 32) }} as payout_status,
        {{ recon_int("case when status = 'matched' and payout_status = 'funded' then 1 else 0 end") }}
            as is_fully_reconciled,
        {{ recon_id('processor_line_id') }} as processor_line_id,
        {{ recon_int('processor_line_count') }} as processor_line_count,
        {{ recon_int('ledger_entry_count') }} as ledger_entry_count,
        payout_date
    from with_payout
)

select
    typed.*,
    {{ recon_text(recon_row_hash(), 32) }} as row_hash
from typed
