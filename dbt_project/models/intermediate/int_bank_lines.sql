{#
  Every bank's statement lines as of D in ONE normalized shape (macro bank_line_columns): the payout matching reads
  only this model. Re-delivered lines (delivery_rank > 1) are left out.

  To add a bank: write stg_<bank>__statement_lines returning the normalized columns and add it to the list below.
#}
{{ config(post_hook=["{{ recon_index(['currency', 'direction', 'is_booked']) }}"]) }}

{%- set bank_line_models = [
    'stg_bank_us__statement_lines',
    'stg_bank_eu__statement_lines',
] %}

{% for model_name in bank_line_models %}
select
    {%- for column in bank_line_columns() %}
    {{ column }}{{ ',' if not loop.last }}
    {%- endfor %}
from {{ ref(model_name) }}
where delivery_rank = 1
{% if not loop.last %}union all{% endif %}
{% endfor %}
