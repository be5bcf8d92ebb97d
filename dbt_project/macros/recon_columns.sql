{#
  Shared column lists, so staging, intermediate and marts agree on one definition.
#}

{# An identifier from a partner or the product (entry ids, Stripe ch_/re_/dp_/po_ ids, Adyen PSP references):
   compared case-sensitively (Stripe ids are case-sensitive; the raw tables use a case-insensitive collation). #}
{% macro recon_id(expr, length=64) -%}
    cast({{ expr }} as char({{ length }}) character set utf8mb4) collate utf8mb4_bin
{%- endmacro %}

{% macro recon_text(expr, length) -%}
    cast({{ expr }} as char({{ length }}) character set utf8mb4)
{%- endmacro %}

{% macro recon_int(expr) -%}
    cast({{ expr }} as signed)
{%- endmacro %}

{#
  The normalized processor line: every processor's staging model (stg_<processor>__*_lines) returns exactly these
  columns and is listed in int_processor_lines.
    gross_minor / fee_minor / net_minor: signed from the merchant balance's point of view (credits > 0, debits < 0;
      fee_minor is the fee charged, > 0 when the processor takes money), net = gross - fee.
    line_role: transaction (carries a ledger match key: entry_type not null) | fee | payout | adjustment
#}
{% macro processor_line_columns() -%}
    {{ return(['processor', 'source', 'line_id', 'line_type', 'line_role', 'entry_type', 'processor_reference',
               'payout_reference', 'currency', 'gross_minor', 'fee_minor', 'net_minor', 'business_date',
               'created_at', 'description', 'file_id', 'file_row_number']) }}
{%- endmacro %}

{# The columns of one reconciliation item (contract 2.1 plus processor_line_id), in the marts' order. #}
{% macro recon_item_columns() -%}
    {{ return(['business_date', 'processor', 'processor_reference', 'ledger_entry_id', 'entry_type',
               'ledger_amount_minor', 'processor_amount_minor', 'currency', 'processor_currency', 'fee_minor',
               'status', 'payout_reference', 'payout_status', 'is_fully_reconciled', 'processor_line_id']) }}
{%- endmacro %}

{# md5 over every non-key column of an item: the history stores a row only when this changes. NULL-safe. #}
{% macro recon_row_hash(alias=none) -%}
    {%- set prefix = (alias ~ '.') if alias else '' -%}
    md5(concat_ws('|'
    {%- for column in recon_item_columns() %},
        coalesce(cast({{ prefix }}{{ column }} as char), '~')
    {%- endfor %}
    ))
{%- endmacro %}

{# recon_key, the item columns and row_hash of the relation aliased `alias`, comma-separated. #}
{% macro recon_item_select(alias) -%}
    {{ alias }}.recon_key,
    {%- for column in recon_item_columns() %}
    {{ alias }}.{{ column }},
    {%- endfor %}
    {{ alias }}.row_hash
{%- endmacro %}
