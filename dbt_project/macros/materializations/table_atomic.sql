{#
  `table` materialization with an atomic swap, for dbt-mysql's two adapters (mariadb, mysql).

  Why: the stock materialization (dbt-core's table.sql + dbt-mysql's rename_relation) replaces the old table with
  `rename old to __dbt_backup` then, in separate statements, `drop old if exists` and `rename __dbt_tmp to old`:
  in between, an analyst querying a mart gets "Table ... doesn't exist". Here the new table is built as
  `<name>__dbt_tmp` as before, then ONE statement swaps both names; MariaDB and MySQL execute a multi-table RENAME
  TABLE atomically (a concurrent query waits on the metadata lock for the few ms of the rename, then reads the new
  table), so a reader sees the old table or the new one, never none. The rest (hooks, grants, docs, dropping the
  backup) follows the stock materialization. Tested by tests/integration/test_atomic_swap.py.
#}

{% materialization table, adapter='mariadb' %}
  {{ return(recon_table_atomic_swap()) }}
{% endmaterialization %}

{% materialization table, adapter='mysql' %}
  {{ return(recon_table_atomic_swap()) }}
{% endmaterialization %}


{% macro recon_table_atomic_swap() %}
  {%- set existing_relation = load_cached_relation(this) -%}
  {%- set target_relation = this.incorporate(type='table') -%}
  {%- set intermediate_relation = make_intermediate_relation(target_relation) -%}
  {%- set backup_relation = make_backup_relation(target_relation, 'table') -%}
  {%- set grant_config = config.get('grants') -%}

  {#- A crashed run can leave either name behind; both must be free for the build and the swap. The cached
      relations carry their real type (the stock path can leave a view as __dbt_backup). -#}
  {{ drop_relation_if_exists(load_cached_relation(intermediate_relation)) }}
  {{ drop_relation_if_exists(load_cached_relation(backup_relation)) }}

  {{ run_hooks(pre_hooks, inside_transaction=False) }}
  {{ run_hooks(pre_hooks, inside_transaction=True) }}

  {% call statement('main') -%}
    {{ get_create_table_as_sql(False, intermediate_relation, sql) }}
  {%- endcall %}

  {%- set existing_relation = load_cached_relation(this) -%}
  {% if existing_relation is none %}
    {% do adapter.rename_relation(intermediate_relation, target_relation) %}
  {% elif existing_relation.is_view %}
    {#- NOT atomic: readers get "doesn't exist" between the drop and the rename. Only happens once, when a model
        changes from view to table. -#}
    {% do adapter.drop_relation(existing_relation) %}
    {% do adapter.rename_relation(intermediate_relation, target_relation) %}
  {% else %}
    {#- Raw SQL rather than adapter.rename_relation, which would drop the target first; tell the cache instead. -#}
    {% call statement('atomic_swap') -%}
      rename table {{ target_relation }} to {{ backup_relation }}, {{ intermediate_relation }} to {{ target_relation }}
    {%- endcall %}
    {% do adapter.cache_renamed(target_relation, backup_relation) %}
    {% do adapter.cache_renamed(intermediate_relation, target_relation) %}
  {% endif %}

  {#- Hooks run after the swap because they address `this` (recon_index reads information_schema for it), so the
      indexes are added to the live table: InnoDB builds them online (readers are not blocked), and for the few ms
      until then a query on the new table is slower, never wrong. -#}
  {% do create_indexes(target_relation) %}
  {{ run_hooks(post_hooks, inside_transaction=True) }}

  {% set should_revoke = should_revoke(existing_relation, full_refresh_mode=True) %}
  {% do apply_grants(target_relation, grant_config, should_revoke=should_revoke) %}
  {% do persist_docs(target_relation, model) %}

  {{ adapter.commit() }}

  {#- The old table, once nothing can be reading it under its old name (a no-op when nothing was swapped). -#}
  {{ drop_relation_if_exists(backup_relation) }}

  {{ run_hooks(post_hooks, inside_transaction=False) }}

  {{ return({'relations': [target_relation]}) }}
{% endmacro %}
