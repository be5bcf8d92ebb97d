{#
  The break change log reproduces the run's breaks for its as-of date (macro history_reproduces, keyed by break_id).
#}
-- reads several models: run by the reconcile DAG's dbt_cross_model_tests after every model is built
{{ config(tags=['cross_model']) }}
{{ history_reproduces(ref('fct_reconciliation_breaks_history'), ref('int_reconciliation_breaks'), key='break_id') }}
