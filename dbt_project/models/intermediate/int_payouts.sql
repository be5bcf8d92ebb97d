{#
  One row per processor payout visible as of D. A payout is (processor, payout_reference, net currency): one Adyen
  batch paying out in two currencies is two payouts.
    payout_date           = the earliest business date of its lines (the file that brought it: contract 3)
    expected_amount_minor = sum of the net of its lines, the payout line itself excluded (contract 2.2)
    reported_amount_minor = what the processor says it paid: -(net of the payout line) (Stripe `payout`, Adyen
                            `MerchantPayout`); NULL when no payout line was reported
    payout_token          = what a bank line must carry to pay it (Stripe po_ id, Adyen batch number)
#}
{{ config(post_hook=["{{ recon_index(['processor', 'payout_reference', 'currency']) }}",
                     "{{ recon_index(['processor', 'payout_token']) }}"]) }}

select
    processor,
    payout_reference,
    net_currency as currency,
    min(payout_token) as payout_token,
    min(business_date) as payout_date,
    {{ recon_int("sum(case when line_role <> 'payout' then net_minor else 0 end)") }} as expected_amount_minor,
    {{ recon_int("-sum(case when line_role = 'payout' then net_minor end)") }} as reported_amount_minor,
    {{ recon_int("sum(case when line_role <> 'payout' then 1 else 0 end)") }} as line_count,
    {{ recon_int("sum(case when line_role = 'transaction' then 1 else 0 end)") }} as transaction_line_count,
    {{ recon_int("sum(case when line_role = 'payout' then 1 else 0 end)") }} as payout_line_count,
    {{ recon_int("sum(case when line_role = 'fee' then -net_minor else 0 end)") }} as fee_line_minor
from {{ ref('int_processor_lines') }}
where payout_reference is not null
group by processor, payout_reference, net_currency
