"""The trigger the wait_for_file sensor defers to: polls the date's S3 prefix until a file appears or the
expected time passes. It runs in the triggerer's event loop, so the blocking boto3 calls go to a thread.

Importable by the triggerer by its classpath, `recon.orchestration.arrival_trigger.S3FileArrivalTrigger` (the
`recon` package is installed wherever Airflow runs). Its kwargs are plain strings and numbers, so it serializes
as is."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

FOUND = "found"
PAST_DEADLINE = "past_deadline"


class S3FileArrivalTrigger(BaseTrigger):
    """Fires once: {"status": "found", "objects": [[key, last modified ISO], ...], "checked_at": ISO, "deadline":
    ISO} as soon as an object is under `prefix`, else {"status": "past_deadline", "objects": [], ...} at `deadline`
    (ISO, UTC)."""

    def __init__(self, bucket: str, prefix: str, deadline: str, poke_interval: float = 300.0) -> None:
        super().__init__()
        self.bucket = bucket
        self.prefix = prefix
        self.deadline = deadline
        self.poke_interval = float(poke_interval)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (f"{type(self).__module__}.{type(self).__qualname__}",
                {"bucket": self.bucket, "prefix": self.prefix, "deadline": self.deadline,
                 "poke_interval": self.poke_interval})

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from recon import arrival, s3

        deadline = datetime.fromisoformat(self.deadline)
        client = await asyncio.to_thread(s3.client)  # may read the Airflow connection: not on the event loop
        while True:
            found = await asyncio.to_thread(arrival.list_arrivals, client, self.bucket, self.prefix)
            now = datetime.now(timezone.utc)
            if found or now >= deadline:
                status = FOUND if found else PAST_DEADLINE
                self.log.info("s3://%s/%s: %s at %s", self.bucket, self.prefix, status, now.isoformat())
                yield TriggerEvent({"status": status, "checked_at": now.isoformat(), "deadline": self.deadline,
                                    "objects": [[key, modified.isoformat()] for key, modified in found]})
                return
            # look again after the poke interval, and once more exactly at the expected time
            await asyncio.sleep(max(0.0, min(self.poke_interval, (deadline - now).total_seconds())))
