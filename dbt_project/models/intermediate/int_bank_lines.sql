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

{{ union_first_deliveries(bank_line_models, bank_line_columns()) }}
