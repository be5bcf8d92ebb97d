"""`recon new-source`: scaffold a new partner source (its YAML, dbt staging model and properties, a test and a
sample file) so that adding a source is filling in TODOs, not writing a pipeline. See docs/adding-a-source.md.

formats: the --format names; sample: --from-sample; source_yaml, staging, dbt_yaml, test_file: one file each;
reference: what is copied from a source of the same format; plan: checks and writes; report: what is printed.
(Nothing is imported here, so `recon --help` does not load the parsers.)"""
