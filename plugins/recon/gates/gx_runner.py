"""Run a list of expectations against a SQL query on the warehouse with GX 1.x (mysql+pymysql).

GX does not officially support MySQL/MariaDB; what we use (a SQL datasource, query assets, column and table
expectations, UnexpectedRowsExpectation) is covered by the integration tests.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)


@dataclass
class GateResult:
    name: str
    success: bool
    evaluated: int
    failures: list[str] = field(default_factory=list)

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
    """One ephemeral GX context with the warehouse as a SQL datasource; validate many queries with it."""

    def __init__(self, connection_string: str):
        import great_expectations as gx

        logging.getLogger("great_expectations").setLevel(logging.WARNING)
        self._gx = gx
        self.context = gx.get_context(mode="ephemeral")
        try:  # progress bars would flood task logs
            from great_expectations.data_context.types.base import ProgressBarsConfig

            self.context.variables.progress_bars = ProgressBarsConfig(globally=False)
        except Exception:  # noqa: BLE001 - cosmetic only
            pass
        self.datasource = self.context.data_sources.add_sql(name="warehouse", connection_string=connection_string)
        self._n = 0

    def validate(self, name: str, query: str, expectations: list[dict[str, Any]]) -> GateResult:
        self._n += 1
        asset = self.datasource.add_query_asset(name=f"q{self._n}", query=query)
        batch = asset.add_batch_definition_whole_table(f"b{self._n}").get_batch()
        suite = self._gx.ExpectationSuite(name=f"{name}-{self._n}")
        for spec in expectations:
            suite.add_expectation(_expectation(spec))
        results = batch.validate(suite)
        failures = [_describe(r) for r in results.results if not r.success]
        outcome = GateResult(name=name, success=bool(results.success), evaluated=len(results.results),
                             failures=failures)
        log.info(outcome.summary())
        return outcome
