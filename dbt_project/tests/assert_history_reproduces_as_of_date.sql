{#
  The transaction change log reproduces the run's reconciliation for its as-of date (macro history_reproduces).
#}
-- reads several models: run by the reconcile DAG's dbt_cross_model_tests after every model is built
{{ config(tags=['cross_model']) }}
{{ history_reproduces(ref('fct_transaction_reconciliation_history'), ref('int_transaction_reconciliation')) }}
