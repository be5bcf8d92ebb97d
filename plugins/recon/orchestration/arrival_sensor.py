"""`wait_for_file`: the first task of a file source's ingest DAG. It looks under the date's S3 prefix once; with a
file there (or already received by an earlier run) it succeeds at once. Otherwise, before the source's expected
time it defers to S3FileArrivalTrigger (no worker slot is held while waiting); after it, or when the trigger
reports the time passed, it fails without retries (AirflowFailException) with a message naming the source, the
business date, the expected time and what to do. Every outcome is recorded in ingest_runs (recon.ingest.wait)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from airflow.sdk import BaseSensorOperator
from airflow.sdk.exceptions import AirflowFailException

from recon import arrival
from recon.orchestration.arrival_trigger import S3FileArrivalTrigger
from recon.orchestration.common import business_date

# the trigger fails the wait itself at the expected time; this only catches a trigger lost by the triggerer
_DEFERRAL_MARGIN = timedelta(hours=1)


class WaitForFileSensor(BaseSensorOperator):
    ui_color = "#fde9c9"

    def __init__(self, *, source_name: str, expected_by: str, poke_interval: float, **kwargs: Any) -> None:
        super().__init__(poke_interval=poke_interval, **kwargs)
        self.source_name = source_name
        self.expected_by = expected_by  # shown in the UI; the YAML stays the source of truth at run time

    def execute(self, context: Any) -> dict[str, Any]:
        from recon.ingest import wait

        outcome = wait.check(self.source_name, business_date(context))
        if outcome.status == arrival.WAITING:
            left = outcome.deadline - datetime.now(timezone.utc)
            self.log.info("%s: no file under s3://%s/%s yet; waiting until %s (deferred, polling every %ss)",
                          self.source_name, outcome.bucket, outcome.prefix, outcome.deadline.isoformat(),
                          self.poke_interval)
            self.defer(trigger=S3FileArrivalTrigger(bucket=outcome.bucket, prefix=outcome.prefix,
                                                    deadline=outcome.deadline.isoformat(),
                                                    poke_interval=self.poke_interval),
                       method_name="execute_complete", timeout=max(left, timedelta(0)) + _DEFERRAL_MARGIN)
        return self._finish(outcome)

    def execute_complete(self, context: Any, event: dict[str, Any]) -> dict[str, Any]:
        from recon.ingest import wait

        return self._finish(wait.after_trigger(self.source_name, business_date(context), event))

    def _finish(self, outcome: Any) -> dict[str, Any]:
        if outcome.status == arrival.MISSING:
            raise AirflowFailException(outcome.message)  # no retry: only a file (and a clear) can fix it
        self.log.info("%s for %s: %s %s", self.source_name, outcome.business_date, outcome.status,
                      outcome.keys or outcome.message)
        return outcome.as_dict()
