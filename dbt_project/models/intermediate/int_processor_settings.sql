{#
  One row per processor the run sees (in the ledger, in the processor lines or in a source YAML) with its
  reconciliation settings: from the processor's source YAML (source_settings; several sources for one processor:
  the most lenient number), else the dbt vars' defaults. The reconciliations read settings only from here.
#}
{{ config(materialized='view') }}  -- a handful of rows, read twice

with configured as (
    select
        processor,
        max(grace_days) as grace_days,
        max(amount_tolerance_minor) as amount_tolerance_minor,
        max(bank_grace_days) as bank_grace_days,
        max(value_date_window_days) as value_date_window_days,
        max(payout_reference_pattern) as payout_reference_pattern,
        max(payout_token_pattern) as payout_token_pattern
    from {{ ref('stg_recon__source_settings') }}
    where role = 'processor'
    group by processor
),

processors as (
    select processor from configured
    union
    select distinct processor from {{ ref('stg_ledger__entries') }}
    union
    select distinct processor from {{ ref('int_processor_lines') }}
)

select
    {{ recon_text('p.processor', 16) }} as processor,
    {{ recon_int("coalesce(c.grace_days, " ~ (var('default_grace_days', 3) | int) ~ ")") }} as grace_days,
    {{ recon_int("coalesce(c.amount_tolerance_minor, " ~ (var('default_amount_tolerance_minor', 0) | int) ~ ")") }}
        as amount_tolerance_minor,
    {{ recon_int("coalesce(c.bank_grace_days, " ~ (var('bank_grace_days', 3) | int) ~ ")") }} as bank_grace_days,
    {{ recon_int("coalesce(c.value_date_window_days, " ~ (var('value_date_window_days', 5) | int) ~ ")") }}
        as value_date_window_days,
    c.payout_reference_pattern,
    c.payout_token_pattern
from processors as p
left join configured as c
    on c.processor = p.processor
