{#
  The payout reconciliation as of an earlier processed as-of date X, rebuilt from the change log.
  Print the SQL:  dbt compile --select payout_status_as_of --vars '{as_of_date: "2026-01-06"}'
  (then read target/compiled/recon/analyses/payout_status_as_of.sql), or paste it with your own date.
  X must be a processed date (select as_of_date from <ns>_marts.rpt_reconciliation_runs).
#}
select
    {{ as_of_date() }} as as_of_date,
    h.recon_key,
    {%- for column in payout_item_columns() %}
    h.{{ column }},
    {%- endfor %}
    h.as_of_date as changed_as_of_date
from {{ ref('fct_payout_reconciliation_history') }} as h
inner join (
    select recon_key, max(as_of_date) as as_of_date
    from {{ ref('fct_payout_reconciliation_history') }}
    where as_of_date <= {{ as_of_date() }}
    group by recon_key
) as latest
    on latest.recon_key = h.recon_key
   and latest.as_of_date = h.as_of_date
where h.is_removed = 0
