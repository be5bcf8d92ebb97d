{#
  Scoping the tests of the append-only tables (the *_history change logs and the rpt_* tables partitioned by
  as_of_date) to the rows the run can have written, so a day's tests do not re-check every earlier as-of date (their
  cost stayed flat instead of growing with the history).

  A test opts in in the model YAML with
      config: {where: "{% raw %}{{ rows_of_this_run() }}{% endraw %}"}
  ({% raw %} because dbt renders a test's YAML config at parse time, when the project's macros do not exist yet:
  the text stays as written and get_where_subquery below renders it when the test runs).

  rows_of_this_run(): the rows with as_of_date >= the run's as-of date D. A run for D writes only its own date's rows
  (delete_where) and, when D is an earlier date re-run, "pin" rows at the next processed date N > D (macro
  change_log); the rows of dates before D are never written again, and were checked by their own runs. Rows with a
  NULL as_of_date belong to no date: they are always included, so a not_null test on as_of_date keeps its meaning.
#}
{% macro rows_of_this_run(column='as_of_date') -%}
    ({{ column }} >= {{ as_of_date() }} or {{ column }} is null)
{%- endmacro %}

{#
  Override of dbt's get_where_subquery (the relation a generic test reads, narrowed by its `where` config): the same,
  except that `where` is rendered when the test runs, so it may call the project's macros (rows_of_this_run).
#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- if where -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ render(where) }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}
