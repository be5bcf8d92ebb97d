{#
  Generic test: no two rows share the same values of `columns` (dbt_utils.unique_combination_of_columns without
  the package dependency). Fails with one row per duplicated combination.
#}
{% test unique_combination(model, columns) %}
select {{ columns | join(', ') }}, count(*) as row_count
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
