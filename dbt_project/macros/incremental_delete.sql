{#
  Override of dbt-mysql's (mysql and mariadb adapters) `incremental_delete`, the statement its incremental
  materialization runs between building the temporary table of new rows and inserting them.

  Adds the model config `delete_where`: a SQL predicate, rendered at execution time so it may call macros, e.g.
  delete_where='as_of_date = {{ as_of_date() }}' (config values are otherwise frozen at parse time). When set, the
  materialization deletes exactly the target rows matching it, whatever the new rows are (even none). The marts
  partitioned by as-of date use it to replace the run's date: re-runs are idempotent, and, unlike a pre_hook, the
  delete happens AFTER the new rows were computed, so the model's SQL can still read the rows it replaces (the
  history model needs them).

  Without `delete_where` the adapter's behaviour is unchanged (delete by unique_key).
#}
{% macro incremental_delete(tmp_relation, target_relation, unique_key=none, statement_name="pre_main") %}
    {%- set delete_where = config.get('delete_where') -%}
    {%- if delete_where -%}
    delete from {{ target_relation }} where {{ render(delete_where) }}
    {%- elif unique_key is not none and unique_key|length -%}
    delete
    from {{ target_relation }}
    where ({{ unique_key if unique_key is string else unique_key | join(',') }}) in (
        select {{ unique_key if unique_key is string else unique_key | join(',') }}
        from {{ tmp_relation }}
    )
    {%- else -%}
    do 0
    {%- endif %}
{%- endmacro %}
