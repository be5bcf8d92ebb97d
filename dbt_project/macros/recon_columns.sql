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
    currency: the GROSS currency (compared with the ledger); net_currency: the currency of net_minor and fee_minor
      (the payout's currency; differs from currency when the processor converted, e.g. Adyen FX).
    gross_minor / fee_minor / net_minor: signed from the merchant balance's point of view (credits > 0, debits < 0;
      fee_minor is the fee charged, > 0 when the processor takes money); net = gross - fee when no FX.
    line_role: transaction (carries a ledger match key: entry_type not null) | fee | payout | adjustment
    payout_reference / payout_token: the payout the line belongs to, and the token a bank line must carry to pay it
      (found in the bank line by the source's payout_reference_pattern).
    delivery_rank: 1 for a line's first delivery; a line re-delivered in a later file (same line_id) gets 2, 3...
      and is ignored by the reconciliation (it is not a duplicate_in_processor).
#}
{% macro processor_line_columns() -%}
    {{ return(['processor', 'source', 'line_id', 'line_type', 'line_role', 'entry_type', 'processor_reference',
               'payout_reference', 'payout_token', 'currency', 'net_currency', 'gross_minor', 'fee_minor',
               'net_minor', 'business_date', 'created_at', 'description', 'file_id', 'file_row_number',
               'delivery_rank']) }}
{%- endmacro %}

{# The columns of one reconciliation item (contract 2.1 plus processor_line_id), in the marts' order. #}
{% macro recon_item_columns() -%}
    {{ return(['business_date', 'processor', 'processor_reference', 'ledger_entry_id', 'entry_type',
               'ledger_amount_minor', 'processor_amount_minor', 'currency', 'processor_currency', 'fee_minor',
               'status', 'payout_reference', 'payout_status', 'is_fully_reconciled', 'processor_line_id']) }}
{%- endmacro %}

{# md5 over every non-key column of an item: the history stores a row only when this changes. NULL-safe. #}
{% macro recon_row_hash(alias=none, columns=none) -%}
    {%- set prefix = (alias ~ '.') if alias else '' -%}
    md5(concat_ws('|'
    {%- for column in (columns or recon_item_columns()) %},
        coalesce(cast({{ prefix }}{{ column }} as char), '~')
    {%- endfor %}
    ))
{%- endmacro %}

{# the key column (recon_key), the item columns and row_hash of the relation aliased `alias`, comma-separated. #}
{% macro recon_item_select(alias, columns=none, key='recon_key') -%}
    {{ alias }}.{{ key }},
    {%- for column in (columns or recon_item_columns()) %}
    {{ alias }}.{{ column }},
    {%- endfor %}
    {{ alias }}.row_hash
{%- endmacro %}

{# The columns of one payout-leg item (contract 2.2: a payout, or a bank credit that explains no payout). #}
{% macro payout_item_columns() -%}
    {{ return(['payout_reference', 'processor', 'payout_date', 'currency', 'expected_amount_minor',
               'reported_amount_minor', 'bank_amount_minor', 'bank_source', 'bank_reference', 'bank_line_id',
               'value_date', 'status', 'line_count', 'transaction_line_count']) }}
{%- endmacro %}

{#
  The normalized bank statement line: every bank's staging model (stg_<bank>__statement_lines) returns exactly
  these columns and is listed in int_bank_lines.
    amount_minor: signed (credit > 0, debit < 0); direction credit | debit | other
    is_booked: 1 when the bank says the entry is final (camt Sts BOOK, not a reversal; BAI2 always)
    value_date: the date the money is available (camt ValDt, else BookgDt; BAI2 funds-type V date, else the
      statement's as-of date)
    reference_1..3: where a payout token is searched, in this order (bank reference; customer reference or
      end-to-end id; free text / remittance information)
#}
{% macro bank_line_columns() -%}
    {{ return(['source', 'line_id', 'account_id', 'currency', 'direction', 'amount_minor', 'is_booked',
               'entry_status', 'value_date', 'bank_reference', 'reference_1', 'reference_2', 'reference_3',
               'business_date', 'file_id', 'file_row_number', 'delivery_rank']) }}
{%- endmacro %}

{#
  Numbers the deliveries of one line (partitioned by `line_id`): 1 for the first delivery (earliest file business
  date, then file, then row), 2, 3... for the same line delivered again in later files. The reconciliation reads
  delivery 1 only (int_processor_lines, int_bank_lines); staging keeps every landed row.
#}
{% macro delivery_rank(line_id) -%}
    row_number() over (partition by {{ line_id }} order by business_date, _file_id, _row_number)
{%- endmacro %}

{#
  The union of several staging models in one normalized shape (`columns`), first deliveries only: the body of
  int_processor_lines and int_bank_lines.
#}
{% macro union_first_deliveries(model_names, columns) -%}
{% for model_name in model_names %}
select
    {%- for column in columns %}
    {{ column }}{{ ',' if not loop.last }}
    {%- endfor %}
from {{ ref(model_name) }}
where delivery_rank = 1
{% if not loop.last %}union all{% endif %}
{% endfor %}
{%- endmacro %}
