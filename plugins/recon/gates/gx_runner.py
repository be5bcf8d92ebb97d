"""Run a list of expectations against a SQL query on the warehouse with GX 1.x (mysql+pymysql), and publish the
validations to the GX Data Docs site (recon.gates.data_docs).

GX does not officially support MySQL/MariaDB; what we use (a SQL datasource, query assets, column and table
expectations, UnexpectedRowsExpectation) is covered by the integration tests.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from recon.gates import data_docs
from recon.ops.airflow_run import current_run

log = logging.getLogger(__name__)


@dataclass
class GateResult:
    name: str
    success: bool
    evaluated: int
    failures: list[str] = field(default_factory=list)
    suite: str | None = None
    docs_url: str | None = None  # its GX Data Docs page, once the session's docs are built

    def summary(self) -> str:
        if self.success:
            return f"{self.name}: {self.evaluated} expectations passed"
        return f"{self.name}: {len(self.failures)} of {self.evaluated} expectations failed: " + "; ".join(self.failures)


def _expectation(spec: dict[str, Any]) -> Any:
    import great_expectations as gx

    spec = dict(spec)
    kind = spec.pop("type")
    class_name = "".join(part.capitalize() for part in kind.split("_"))
    if kind == "unexpected_rows":
        cls = gx.expectations.UnexpectedRowsExpectation
    else:
        cls = getattr(gx.expectations, class_name, None)
    if cls is None:
        raise ValueError(f"unknown Great Expectations expectation {kind!r} (class {class_name})")
    return cls(**spec)


def _describe(res: Any) -> str:
    cfg = res.expectation_config
    kwargs = {k: v for k, v in (cfg.kwargs or {}).items() if k not in ("batch_id", "unexpected_rows_query")}
    result = res.result or {}
    detail = ""
    if "unexpected_count" in result:
        detail = f" ({result.get('unexpected_count')} unexpected, e.g. {result.get('partial_unexpected_list', [])[:3]})"
    elif "observed_value" in result:
        detail = f" (observed {result.get('observed_value')})"
    errors = [info.get("exception_message", "") for info in (res.exception_info or {}).values()
              if isinstance(info, dict) and info.get("raised_exception")]
    if res.exception_info and res.exception_info.get("raised_exception"):
        errors.append(res.exception_info.get("exception_message", ""))
    if errors:  # the expectation could not be evaluated: say why, not just "failed"
        detail = f" (could not be evaluated: {errors[0].splitlines()[0][:300]})"
    desc = getattr(cfg, "description", None) or (cfg.meta or {}).get("description")
    return f"{desc or cfg.type} {kwargs}{detail}"


class GxSession:
    """One ephemeral GX context with the warehouse as a SQL datasource; validate many queries with it, then
    `build_docs()` once to publish them all to the Data Docs site (unless RECON_GX_DOCS=off)."""

    def __init__(self, connection_string: str, docs: bool | None = None, temp_tables: bool = True):
        import great_expectations as gx

        logging.getLogger("great_expectations").setLevel(logging.WARNING)
        self._gx = gx
        self.docs = data_docs.enabled() if docs is None else docs
        self.context = self._docs_context() if self.docs else None
        if self.context is None:
            self.docs = False
            self.context = gx.get_context(mode="ephemeral")
        try:  # progress bars would flood task logs
            from great_expectations.data_context.types.base import ProgressBarsConfig

            self.context.variables.progress_bars = ProgressBarsConfig(globally=False)
        except Exception:  # noqa: BLE001 - cosmetic only
            pass
        # create_temp_table: GX learns a query asset's columns by running the whole query through a buffered cursor
        # (the file's or mart's rows in this process: about 1 KB a row). With a temporary table the query runs in
        # the server and the columns are read from the table. Needs a default database in the URL and the
        # user's CREATE TEMPORARY TABLES there (recon.access).
        self.datasource = self.context.data_sources.add_sql(name="warehouse", connection_string=connection_string,
                                                            create_temp_table=temp_tables)
        self._n = 0
        self._assets: set[str] = set()
        self._pending: list[tuple[str, Any, GateResult]] = []  # (batch id, GX result, our result) to publish

    def _docs_context(self) -> Any:
        """A context whose validation results and Data Docs site are on disk, or None (with a warning) when that
        directory cannot be used: the gates never depend on their docs."""
        try:
            return self._gx.get_context(mode="ephemeral", project_config=data_docs.context_config())
        except Exception as exc:  # noqa: BLE001
            log.warning("GX Data Docs off for this run (the gates run the same): %s", exc)
            return None

    def _asset_name(self, name: str) -> str:
        asset = data_docs.slug(name)
        if asset in self._assets:  # the same file or check twice in one session
            asset = f"{asset}_{self._n}"
        self._assets.add(asset)
        return asset

    def validate(self, name: str, query: str, expectations: list[dict[str, Any]],
                 suite: str | None = None) -> GateResult:
        """`name` says what was checked (logs, quarantine reasons); `suite` names the expectation suite in the Data
        Docs (default: from the name)."""
        self._n += 1
        asset = self.datasource.add_query_asset(name=self._asset_name(name), query=query)
        batch = asset.add_batch_definition_whole_table(f"b{self._n}").get_batch()
        suite_name = data_docs.slug(suite or name)
        gx_suite = self._gx.ExpectationSuite(name=suite_name)
        for spec in expectations:
            gx_suite.add_expectation(_expectation(spec))
        results = batch.validate(gx_suite)
        failures = [_describe(r) for r in results.results if not r.success]
        outcome = GateResult(name=name, success=bool(results.success), evaluated=len(results.results),
                             failures=failures, suite=suite_name)
        log.info(outcome.summary())
        if self.docs:
            self._pending.append((batch.id, results, outcome))
        return outcome

    def build_docs(self) -> list[str]:
        """Publish this session's validations to the Data Docs site; sets each GateResult's docs_url and returns the
        URLs. Never raises: the docs show the gate, they are not part of it (a failure is logged as a warning)."""
        pending, self._pending = self._pending, []
        if not pending:
            return []
        run = current_run()
        run_name = data_docs.run_name(run.dag_id if run else None, run.run_id if run else None)
        try:
            validations = [data_docs.Validation(data_docs.validation_key(outcome.suite or "validation", run_name,
                                                                         batch_id), result)
                           for batch_id, result, outcome in pending]
            pages = data_docs.publish(self.context, validations)
        except Exception as exc:  # noqa: BLE001
            log.warning("GX Data Docs not built (the gate results stand): %s", exc)
            return []
        urls = []
        for (_, _, outcome), page in zip(pending, pages):
            outcome.docs_url = data_docs.page_url(page)
            urls.append(outcome.docs_url)
            log.info("GX Data Docs for %s: %s (file %s)", outcome.name, outcome.docs_url, data_docs.site_dir() / page)
        return urls
