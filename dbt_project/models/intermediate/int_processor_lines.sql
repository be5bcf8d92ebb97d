{#
  Every processor's lines as of D in ONE normalized shape (macro processor_line_columns): the reconciliation and
  the payouts read only this model, never a processor's staging model. Re-delivered lines (delivery_rank > 1) are
  left out here: a line counts once however many files repeat it.

  To add a processor: write stg_<processor>__<entity> returning the normalized columns (signs: credits > 0,
  debits < 0 from the merchant balance's point of view; entry_type mapped to the ledger's types per contract 1.6;
  line_role transaction | fee | payout | adjustment; payout_reference/payout_token) and add it to the list below.
#}
{{ config(
    post_hook=[
        "{{ recon_index(['processor', 'processor_reference', 'entry_type']) }}",
        "{{ recon_index(['processor', 'payout_reference', 'net_currency']) }}",
    ]
) }}

{%- set processor_line_models = [
    'stg_stripe__payout_lines',
    'stg_adyen__settlement_lines',
] %}

{{ union_first_deliveries(processor_line_models, processor_line_columns()) }}
