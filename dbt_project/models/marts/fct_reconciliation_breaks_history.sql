{#
  Change log of the breaks (int_reconciliation_breaks): a row for a break when it opened or its data state (reason,
  amount, ...) changed on an as-of date, and a removal row (is_removed = 1) when it was no longer broken (matched,
  funded, or its item disappeared). Mechanics and re-run "pins": macro change_log, keyed by break_id.
  Lifecycle as of any processed date (with the manual resolutions): macro breaks_as_of, analyses/breaks_as_of.sql.
#}
{{ config(
    materialized='incremental',
    full_refresh=false,
    delete_where='as_of_date = {{ as_of_date() }}',
    post_hook=[
        "{{ recon_index(['break_id', 'as_of_date']) }}",
        "{{ recon_index(['as_of_date']) }}",
    ]
) }}

-- depends_on: {{ ref('rpt_reconciliation_runs') }}

{{ change_log(ref('int_reconciliation_breaks'), break_columns(), key='break_id') }}
