{#
  Question: which transactions are not fully reconciled yet, and which side is holding them up?
  A transaction is fully reconciled when the processor matched it (status = matched) AND the bank funded its
  payout (payout_status = funded). `waiting_on` says which leg is missing: 'processor' (the transaction leg's
  status), else 'bank' (the payout leg's). As of the latest processed as-of date, oldest first.
  Run:  dbt compile --select transactions_not_fully_reconciled   (no vars needed)
        then run target/compiled/recon/analyses/transactions_not_fully_reconciled.sql, or paste this query with
        `<ns>_marts.fct_transaction_reconciliation` in place of the ref.
#}
select
    case when status <> 'matched' then 'processor' else 'bank' end as waiting_on,
    status,
    payout_status,
    processor,
    processor_reference,
    ledger_entry_id,
    entry_type,
    business_date,
    datediff(as_of_date, business_date) as age_days,
    ledger_amount_minor,
    processor_amount_minor,
    currency,
    payout_reference,
    processor_line_id,
    as_of_date
from {{ ref('fct_transaction_reconciliation') }}
where is_fully_reconciled = 0
order by business_date, processor, processor_reference, ledger_entry_id
