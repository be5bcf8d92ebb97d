{#
  post_hook helper: add a secondary index to the model's table unless it already has one of that name.
  MariaDB joins un-indexed tables with block nested loops (no hash join at the default join_cache_level), so the
  join keys of every table model get an index. Works on MariaDB 10.11 and MySQL 8.x (no CREATE INDEX IF NOT EXISTS,
  which MySQL lacks): the existence check reads information_schema. Renders a no-op (`do 0`) when there is nothing
  to do, so it is safe on incremental models.

  usage: {{ config(post_hook=[recon_index(['processor', 'processor_reference', 'entry_type'])]) }}
         (inside config() pass it as a string: "{{ recon_index([...]) }}")
#}
{% macro recon_index(columns, name=none) -%}
    {%- set index_name = (name or ('ix_' ~ (columns | join('_'))))[:64] -%}
    {%- if not execute -%}
        do 0
    {%- else -%}
        {%- set found = run_query(
            "select count(*) from information_schema.statistics where table_schema = '" ~ this.schema ~
            "' and table_name = '" ~ this.identifier ~ "' and index_name = '" ~ index_name ~ "'") -%}
        {%- if found.columns[0].values()[0] | int > 0 -%}
            do 0
        {%- else -%}
            create index {{ index_name }} on {{ this }} ({{ columns | join(', ') }})
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
