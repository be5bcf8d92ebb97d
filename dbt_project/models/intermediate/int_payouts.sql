{#
  One row per processor payout visible as of D.
    payout_date           = the earliest business date of its lines (the file that brought it: contract 3)
    expected_amount_minor = sum of the net of its lines, the payout line itself excluded
    reported_amount_minor = the amount the processor says it paid out (-(net of the payout line)); NULL when the
                            payout line has not been reported yet
#}
{{ config(post_hook=["{{ recon_index(['processor', 'payout_reference']) }}"]) }}

select
    processor,
    payout_reference,
    min(business_date) as payout_date,
    min(currency) as currency,
    {{ recon_int("sum(case when line_role <> 'payout' then net_minor else 0 end)") }} as expected_amount_minor,
    {{ recon_int("-sum(case when line_role = 'payout' then net_minor end)") }} as reported_amount_minor,
    {{ recon_int("count(*)") }} as line_count,
    {{ recon_int("sum(case when line_role = 'transaction' then 1 else 0 end)") }} as transaction_line_count,
    {{ recon_int("sum(case when line_role = 'payout' then 1 else 0 end)") }} as payout_line_count,
    {{ recon_int("count(distinct currency)") }} as currency_count
from {{ ref('int_processor_lines') }}
where payout_reference is not null
group by processor, payout_reference
