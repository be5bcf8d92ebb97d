{#
  The payout reconciliation as of D (contract 2.2): one row per processor payout visible as of D, plus one row per
  booked bank credit visible as of D that pays no payout (unexplained_bank_credit).

  A bank credit pays a payout when (settings from the processor's source YAML, via int_processor_settings):
    - same currency;
    - the credit's payout token for that processor equals the payout's: the first match of the processor's
      payout_reference_pattern in reference_1, then reference_2, then reference_3; then, if the source sets
      payout_token_pattern, the first match of that inside it ('po_1AbC' -> 'po_1AbC'; Adyen: 'BATCH 1234' with
      token pattern '[0-9]+$' -> '1234'). Tokens compare case-sensitively;
    - payout_date <= value_date <= payout_date + value_date_window_days.
  Several candidates: the one whose amount equals the expected amount, then the earliest value date, then the
  smallest bank reference. Status: amount_mismatch when the processor's own payout line (if any) disagrees with
  the sum of its lines; else a credit found -> funded when |bank - expected| <= amount_tolerance_minor, else
  amount_mismatch (e.g. a short payout); none found -> pending_bank while D - payout_date <= bank_grace_days, then
  missing_in_bank.
#}
{{ config(post_hook=["{{ recon_index(['processor', 'payout_reference', 'currency']) }}"]) }}

{%- set d = as_of_date() %}

with settings as (
    select * from {{ ref('int_processor_settings') }}
),

credits as (
    select *
    from {{ ref('int_bank_lines') }}
    where direction = 'credit'
      and is_booked = 1
),

credit_matches as (
    -- per credit and processor: the first text the processor's pattern matches (REGEXP_SUBSTR gives '' or NULL
    -- when nothing matches, depending on the server)
    select
        c.line_id,
        s.processor,
        s.payout_token_pattern,
        coalesce(
            nullif(regexp_substr(c.reference_1, s.payout_reference_pattern), ''),
            nullif(regexp_substr(c.reference_2, s.payout_reference_pattern), ''),
            nullif(regexp_substr(c.reference_3, s.payout_reference_pattern), '')
        ) as matched_text
    from credits as c
    cross join settings as s
    where s.payout_reference_pattern is not null
),

credit_tokens as (
    select
        line_id,
        processor,
        {{ recon_id("case when payout_token_pattern is null then matched_text
                         else nullif(regexp_substr(matched_text, payout_token_pattern), '') end", 128) }}
            as payout_token
    from credit_matches
    where matched_text is not null
),

payouts as (
    select
        p.*,
        s.bank_grace_days,
        s.value_date_window_days,
        s.amount_tolerance_minor
    from {{ ref('int_payouts') }} as p
    inner join settings as s
        on s.processor = p.processor
),

candidates as (
    select
        p.processor,
        p.payout_reference,
        p.currency,
        c.line_id,
        c.source as bank_source,
        c.bank_reference,
        c.amount_minor as bank_amount_minor,
        c.value_date,
        row_number() over (
            partition by p.processor, p.payout_reference, p.currency
            order by case when c.amount_minor = p.expected_amount_minor then 0 else 1 end,
                     c.value_date, c.bank_reference, c.line_id
        ) as candidate_rank
    from payouts as p
    inner join credit_tokens as t
        on t.processor = p.processor
       and t.payout_token = p.payout_token
    inner join credits as c
        on c.line_id = t.line_id
       and c.currency = p.currency
       and c.value_date between p.payout_date
                            and date_add(p.payout_date, interval p.value_date_window_days day)
),

chosen as (
    select * from candidates where candidate_rank = 1
),

payout_items as (
    select
        concat('PO|', p.processor, '|', p.payout_reference, '|', p.currency) as item_identity,
        p.payout_reference,
        p.processor,
        p.payout_date,
        p.currency,
        p.expected_amount_minor,
        p.reported_amount_minor,
        b.bank_amount_minor,
        b.bank_source,
        b.bank_reference,
        b.line_id as bank_line_id,
        b.value_date,
        case
            -- the processor's own payout line disagrees with its lines: a break now, whatever the bank does
            when p.reported_amount_minor is not null
                 and p.reported_amount_minor <> p.expected_amount_minor then 'amount_mismatch'
            when b.line_id is not null
                 and abs(b.bank_amount_minor - p.expected_amount_minor) <= p.amount_tolerance_minor then 'funded'
            when b.line_id is not null then 'amount_mismatch'
            when datediff({{ d }}, p.payout_date) <= p.bank_grace_days then 'pending_bank'
            else 'missing_in_bank'
        end as status,
        p.line_count,
        p.transaction_line_count
    from payouts as p
    left join chosen as b
        on b.processor = p.processor
       and b.payout_reference = p.payout_reference
       and b.currency = p.currency
),

unexplained_items as (
    select
        concat('BC|', c.source, '|', c.line_id) as item_identity,
        cast(null as char) as payout_reference,
        cast(null as char) as processor,
        cast(null as date) as payout_date,
        c.currency,
        cast(null as signed) as expected_amount_minor,
        cast(null as signed) as reported_amount_minor,
        c.amount_minor as bank_amount_minor,
        c.source as bank_source,
        c.bank_reference,
        c.line_id as bank_line_id,
        c.value_date,
        'unexplained_bank_credit' as status,
        0 as line_count,
        0 as transaction_line_count
    from credits as c
    left join chosen as b
        on b.line_id = c.line_id
    where b.line_id is null
),

items as (
    select * from payout_items
    union all
    select * from unexplained_items
),

typed as (
    select
        {{ recon_text('md5(item_identity)', 32) }} as recon_key,
        {{ recon_id('payout_reference', 128) }} as payout_reference,
        {{ recon_text('processor', 16) }} as processor,
        payout_date,
        {{ recon_text('currency', 3) }} as currency,
        {{ recon_int('expected_amount_minor') }} as expected_amount_minor,
        {{ recon_int('reported_amount_minor') }} as reported_amount_minor,
        {{ recon_int('bank_amount_minor') }} as bank_amount_minor,
        {{ recon_text('bank_source', 48) }} as bank_source,
        {{ recon_id('bank_reference', 128) }} as bank_reference,
        {{ recon_id('bank_line_id') }} as bank_line_id,
        value_date,
        {{ recon_text('status', 32) }} as status,
        {{ recon_int('line_count') }} as line_count,
        {{ recon_int('transaction_line_count') }} as transaction_line_count
    from items
)

select
    typed.*,
    {{ recon_text(recon_row_hash(columns=payout_item_columns()), 32) }} as row_hash
from typed
