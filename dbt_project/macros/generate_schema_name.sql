{#
  Databases (MySQL "schemas") derive from the namespace, i.e. the profile's schema (RECON_NAMESPACE):
    custom schema `marts`  -> <ns>_marts   (fct_*, rpt_*: what analysts query)
    anything else          -> <ns>         (staging and intermediate models)
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is not none and custom_schema_name | trim == 'marts' -%}
        {{ target.schema }}_marts
    {%- else -%}
        {{ target.schema }}
    {%- endif -%}
{%- endmacro %}
