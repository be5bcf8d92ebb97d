{#
  The run's as-of date D, from `--vars '{as_of_date: "YYYY-MM-DD"}'`, as a SQL DATE expression.

  - Required at execution time (run/build/test/compile/docs): a clear compiler error when missing or malformed.
  - Not required to parse (`dbt parse`, `dbt ls`: cosmos renders the DAG from the manifest): a placeholder.
  - Validated as a real calendar date before it is put into SQL (it is never pasted in unchecked).
#}
{% macro as_of_date_string() -%}
    {%- set raw = var('as_of_date', none) -%}
    {%- if raw is none or (raw | string | trim) == '' -%}
        {%- if execute -%}
            {{ exceptions.raise_compiler_error(
                "recon: the var `as_of_date` is required, e.g. dbt build --vars '{as_of_date: \"2026-01-06\"}'") }}
        {%- endif -%}
        {{ return('1970-01-01') }}
    {%- endif -%}
    {%- set text = raw | string | trim -%}
    {%- set valid = modules.re.match('^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$', text) -%}
    {%- if valid -%}
        {#- no impossible dates such as 2026-02-30 -#}
        {%- set year, month, day = text[:4] | int, text[5:7] | int, text[8:10] | int -%}
        {%- set leap = (year % 4 == 0 and year % 100 != 0) or year % 400 == 0 -%}
        {%- set month_days = [31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] -%}
        {%- set valid = day <= month_days[month - 1] -%}
    {%- endif -%}
    {%- if not valid -%}
        {{ exceptions.raise_compiler_error("recon: var `as_of_date` must be a date YYYY-MM-DD, got '" ~ text ~ "'") }}
    {%- endif -%}
    {{ return(text) }}
{%- endmacro %}

{% macro as_of_date() -%}
    cast('{{ as_of_date_string() }}' as date)
{%- endmacro %}
