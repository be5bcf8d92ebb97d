"""What `recon new-source` prints: the files, then the steps left to the data engineer, in order."""
from __future__ import annotations

from recon.scaffold.plan import Layout, Plan

_UNION = {"processor": "int_processor_lines", "bank": "int_bank_lines"}


def describe(plan: Plan, layout: Layout, *, dry_run: bool) -> str:
    name, role = plan.source.name, plan.role
    verb = "would write" if dry_run else "wrote"
    copied = f"; format files copied from {plan.reference}" if plan.reference else ""
    lines = [f"{verb} {len(plan.files)} files for source {name} (format {plan.source.format}, role {role}{copied}):"]
    width = max(len(layout.show(f.path)) for f in plan.files)
    lines += [f"  {layout.show(f.path):<{width}}  {f.what}" for f in plan.files]
    test = next(layout.show(f.path) for f in plan.files if f.path.name.startswith("test_source_"))
    steps = [
        f"fill in the TODOs: grep -n TODO {layout.show(plan.files[0].path)} {layout.show(plan.files[1].path)}",
        f".stack/venv/bin/pytest {test}",
        f"recon stack up      creates landing_{plan.source.table} and src_{plan.source.table} in <namespace>_raw",
        f"make manifest       reconcile_daily's dbt task group gains {plan.model}",
        f"DAG ingest_{name} appears at the next DAG parse, no code change (airflow dags list --local, or the UI); it "
        f"reads s3://<bucket>/{plan.source.s3_prefix}/YYYY/MM/DD/",
    ]
    if role in _UNION:
        steps.append(f"when the model's TODOs are done: add '{plan.model}' to the list in "
                     f"dbt_project/models/intermediate/{_UNION[role]}.sql so the reconciliation reads it")
    if role == "processor":
        processor = plan.source.options.get("processor", name)
        steps.append(f"add '{processor}' to the ledger's processor values: dags/sources/ledger.yml (value_set of "
                     "processor) and dbt_project/models/marts/_marts.yml (accepted_values of processor)")
    lines.append("next steps (docs/adding-a-source.md):")
    lines += [f"  {n}. {step}" for n, step in enumerate(steps, start=1)]
    if dry_run:
        lines.append("dry run: nothing was written")
    return "\n".join(lines)
