"""Rebuild the break marts after a resolution, so it shows at once: fct_reconciliation_breaks and the latest date's
rpt_break_aging. Both are pure functions of the break change log and the resolutions up to the latest processed
as-of date, so this never changes any other answer."""
from __future__ import annotations

import tempfile
import time
from pathlib import Path

from recon import dbt
from recon.reconcile import latest_processed_as_of_date

MODELS = ("stg_recon__break_resolutions", "fct_reconciliation_breaks", "rpt_break_aging")


def refresh_break_marts() -> float:
    """Returns the seconds it took. Raises RuntimeError (with dbt's output) when dbt fails."""
    as_of = latest_processed_as_of_date()
    if as_of is None:
        raise RuntimeError("no reconciliation has run yet: nothing to refresh")
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="recon-breaks-") as tmp:
        # its own target/log dirs: never touches the manifest cosmos renders the DAG from
        dbt.run_dbt(["run", "--select", *MODELS, "--vars", f"{{as_of_date: '{as_of.isoformat()}'}}",
                     "--target-path", str(Path(tmp) / "target"), "--log-path", str(Path(tmp) / "logs")],
                    capture=True)
    return time.monotonic() - started
