{#
  Every processor's lines as of D in ONE normalized shape (macro processor_line_columns): the reconciliation and
  the payouts read only this model, never a processor's staging model.

  To add a processor (e.g. Adyen): write stg_<processor>__<entity> returning the normalized columns (signs: credits
  > 0, debits < 0 from the merchant balance's point of view; entry_type mapped to the ledger's types per contract
  1.6; line_role transaction | fee | payout | adjustment) and add it to the list below.
#}
{{ config(
    post_hook=[
        "{{ recon_index(['processor', 'processor_reference', 'entry_type']) }}",
        "{{ recon_index(['processor', 'payout_reference']) }}",
    ]
) }}

{%- set processor_line_models = [
    'stg_stripe__payout_lines',
] %}

{% for model_name in processor_line_models %}
select
    {%- for column in processor_line_columns() %}
    {{ column }}{{ ',' if not loop.last }}
    {%- endfor %}
from {{ ref(model_name) }}
{% if not loop.last %}union all{% endif %}
{% endfor %}
