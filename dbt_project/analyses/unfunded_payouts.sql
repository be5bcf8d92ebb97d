{#
  Question: which processor payouts has the bank not paid yet, and for how long?
    pending_bank:    still within the processor's bank_grace_days (not a break yet);
    missing_in_bank: past the grace period with no qualifying bank credit (a break: see docs/operations.md,
                     "Reading payout breaks"). Oldest and largest first, as of the latest processed as-of date.
  Run:  dbt compile --select unfunded_payouts   (no vars needed)
        then run target/compiled/recon/analyses/unfunded_payouts.sql, or paste this query with
        `<ns>_marts.fct_payout_reconciliation` in place of the ref.
#}
select
    status,
    processor,
    payout_reference,
    currency,
    payout_date,
    datediff(as_of_date, payout_date) as age_days,
    expected_amount_minor,
    reported_amount_minor,
    line_count,
    transaction_line_count,
    as_of_date
from {{ ref('fct_payout_reconciliation') }}
where status in ('pending_bank', 'missing_in_bank')
order by
    case status when 'missing_in_bank' then 0 else 1 end,
    payout_date,
    expected_amount_minor desc
