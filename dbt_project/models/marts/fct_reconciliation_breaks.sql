{#
  Every break, open or closed, as of the LATEST as-of date processed, with its age, priority and lifecycle
  (macro breaks_as_of). Rebuilt by every reconcile run and by `recon breaks resolve` (a resolution shows at once).
  Earlier as-of dates: analyses/breaks_as_of.sql; aggregates per as-of date: rpt_break_aging.
#}
{{ config(
    materialized='table',
    post_hook=[
        "{{ recon_index(['break_id']) }}",
        "{{ recon_index(['lifecycle', 'priority']) }}",
    ]
) }}

{{ breaks_as_of('(select max(as_of_date) from ' ~ ref('rpt_reconciliation_runs') ~ ')') }}
