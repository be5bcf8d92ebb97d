{#
  The payout change log reproduces the run's payout reconciliation for its as-of date (macro history_reproduces).
#}
-- reads several models: run by the reconcile DAG's dbt_cross_model_tests after every model is built
{{ config(tags=['cross_model']) }}
{{ history_reproduces(ref('fct_payout_reconciliation_history'), ref('int_payout_reconciliation')) }}
