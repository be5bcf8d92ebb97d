"""The factory: one `ingest_<source>` DAG per source YAML."""
from __future__ import annotations

from typing import Any

from airflow.sdk import DAG, task

from recon.orchestration.common import business_date, daily_timetable, default_args, staging_asset, start_datetime
from recon.orchestration.run_date import BUSINESS_DATE_KEY
from recon.sources import Source

DOC = """
### Ingest `{name}` ({kind}, format `{format}`)
{description}

For the run's business date (its logical date = the data interval start): for a file source, **wait_for_file**
until the YAML's `expected_by` (deferred; fails naming the source, date and time when no file came), then
**discover** the day's objects under
`s3://<bucket>/{prefix}/YYYY/MM/DD/` (or extract from the product database) -> **land** each file into
`landing_{table}` (all or nothing per file; bad files are quarantined with file, line and field in
`file_manifest.reason`) -> **audit** with Great Expectations -> **publish** to `src_{table}` (a re-run replaces
the day's rows) -> **archive** objects to `processed/` or `quarantine/` -> emit the `recon_staging_{name}` asset.
Re-running a day is safe, also beside another run of it (a backfill): land, audit, publish and archive take the
day's ingest lock, so the second run waits and finds the files handled. A failed task is retried twice
(`RECON_RETRY_DELAY_SECONDS` apart). Source declaration: `dags/sources/{name}.yml`.
"""


def build_ingest_dag(source: Source) -> DAG:
    with DAG(
        dag_id=f"ingest_{source.name}",
        description=source.description or f"Ingest {source.name}",
        schedule=daily_timetable(source.schedule),
        start_date=start_datetime(source.start_date),
        catchup=False,
        max_active_runs=1,  # one run at a time per DAG; a backfill's runs are kept apart by recon.ingest.ingest_lock
        default_args=default_args(),  # retries=2; RECON_RETRY_DELAY_SECONDS (default 30)
        tags=["recon", "ingest", source.kind],
        doc_md=DOC.format(name=source.name, kind=source.kind, format=source.format, table=source.table,
                          description=source.description, prefix=source.s3_prefix),
    ) as dag:
        name = source.name

        @task(task_id="discover")
        def discover(**context: Any) -> dict[str, Any]:
            from recon.ingest import steps

            return steps.discover(name, business_date(context))

        @task(task_id="land")
        def land(found: dict[str, Any], **context: Any) -> dict[str, Any]:
            from recon.ingest import steps

            return steps.land(name, business_date(context), found["load_id"], found["keys"])

        @task(task_id="audit")
        def audit(found: dict[str, Any], **context: Any) -> dict[str, Any]:
            from recon.ingest import steps

            return steps.audit(name, business_date(context), found["load_id"])

        @task(task_id="publish", outlets=[staging_asset(name)])
        def publish(found: dict[str, Any], **context: Any) -> dict[str, Any]:
            from recon.ingest import steps

            day = business_date(context)
            # the date rides on the asset event: an asset-triggered reconcile_daily run reads it (run_date.py)
            context["outlet_events"][staging_asset(name)].extra = {BUSINESS_DATE_KEY: day.isoformat()}
            return steps.publish_day(name, day, found["load_id"])

        @task(task_id="archive")
        def archive(found: dict[str, Any], **context: Any) -> dict[str, Any]:
            from recon.ingest import steps

            return steps.archive_day(name, business_date(context), found["load_id"])

        found = discover()  # every step reads the load id and keys from discover's XCom
        land(found) >> audit(found) >> publish(found) >> archive(found)
        if source.kind == "file" and source.expected_by is not None:
            # first: wait (deferred) for the date's file until the YAML's expected_by, or fail naming it
            from recon.orchestration.arrival_sensor import WaitForFileSensor

            WaitForFileSensor(task_id="wait_for_file", source_name=name, expected_by=source.expected_by.text,
                              poke_interval=source.poke_interval_seconds) >> found
    return dag
