"""Archive: move each handled object of the day out of inbound/ to processed/ or quarantine/ (copy, record,
then delete). Never overwrites: a name already taken in the archive gets the manifest file id appended."""
from __future__ import annotations

from datetime import date
from typing import Any

from recon import db, s3
from recon.ingest import manifest
from recon.settings import load_settings
from recon.sources import Source


def _target(client: Any, bucket: str, folder: str, source: Source, row: manifest.ManifestRow) -> str:
    name = row.file_name if s3.key_problem(row.object_key, s3.date_prefix(source.s3_prefix, row.business_date)) \
        is None else f"unsafe-key-{row.file_id}"
    key = f"{folder}/{source.name}/{row.business_date:%Y/%m/%d}/{name}"
    try:
        client.head_object(Bucket=bucket, Key=key)
    except client.exceptions.ClientError:
        return key
    return f"{key}.file-{row.file_id}"


def archive(source: Source, business_date: date) -> dict[str, int]:
    if source.kind != "file":
        return {}
    s = load_settings()
    client = s3.client()
    with db.transaction() as cur:
        rows = [r for r in manifest.rows_for_date(cur, s, source.name, business_date) if r.archived_key is None]
    moved: dict[str, int] = {"processed": 0, "quarantine": 0}
    for row in rows:
        if row.status in ("received", "landed", "abandoned"):
            continue  # not finished: a later run decides its fate
        folder = "quarantine" if row.status == "quarantined" else "processed"
        target = _target(client, s.bucket, folder, source, row)
        client.copy_object(Bucket=s.bucket, Key=target, CopySource={"Bucket": s.bucket, "Key": row.object_key})
        with db.transaction() as cur:
            manifest.update(cur, s, row.file_id, archived_key=target)
        client.delete_object(Bucket=s.bucket, Key=row.object_key)
        moved[folder] += 1
    return moved
