{#
  Every break, open or closed, with its age, priority and lifecycle as of any processed as-of date X (the same
  macro as fct_reconciliation_breaks, which shows the latest date):
    dbt compile --select breaks_as_of --vars '{as_of_date: "X"}'   then run target/compiled/recon/analyses/breaks_as_of.sql
#}
{{ breaks_as_of(as_of_date()) }}
