{#
  fct_transaction_reconciliation shows the latest as-of date processed, whatever date this run was for.
#}
select f.as_of_date, r.latest_as_of_date
from (select distinct as_of_date from {{ ref('fct_transaction_reconciliation') }}) as f
cross join (select max(as_of_date) as latest_as_of_date from {{ ref('rpt_reconciliation_runs') }}) as r
where f.as_of_date <> r.latest_as_of_date
