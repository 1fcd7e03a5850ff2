"""One declaration per asset: `table_asset` and `artifact_asset` turn a declaration into a Dagster asset.

A declaration names the asset's key, the tables and artefacts it reads, its contract, its checks and
the plain function that builds it. Everything else follows from that, once, here: the DuckDB table
name (the key, `gold/lead_scores` -> `gold.lead_scores`), `deps` (what it reads, so the lineage the UI
draws is what the code reads), the group (the key's layer), kinds, owner, the column schema, the
contract check, and the steps every table goes through:

    build -> stage -> validate against the contract -> swap in -> metadata

A failed contract writes nothing, records a failed check that names the table, the column, the rule and
example rows, and leaves the previous table in place. A build that raises `Skip` publishes the table
empty and typed (nothing stale is served), records why, and reports its other checks as not evaluated.
"""

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd
import pandera.pandas as pa

from elv_assets.build import AS_OF_KEY, Build, Built, Check, InputRefused, Refused, Skip, table_name
from elv_assets.contracts.inputs import LEAD_CONTACT_COLUMNS
from elv_assets.contracts.tables import GLOSSARY
from elv_assets.defs.resources import (
    Artifacts,
    ChainSettings,
    ElvSettings,
    FeatureSettings,
    RunWindow,
    Warehouse,
)
from elv_assets.lakehouse.validation import Problem
from elv_assets.lakehouse.warehouse import (
    append_in,
    columns,
    contract_problems,
    contract_select,
    drop,
    ensure_schemas,
    row_count,
    stage,
    stage_frame,
    stage_name,
    swap_in,
)

OWNERS = ["team:data-platform"]
PREVIEW_ROWS = 8


@dataclass(frozen=True)
class CheckDecl:
    name: str
    description: str
    blocking: bool = False  # a failed blocking check stops what reads the asset


def key_of(key: str) -> dg.AssetKey:
    return dg.AssetKey(key.split("/"))


def column_schema(model: type[pa.DataFrameModel]) -> dg.TableSchema:
    """The Dagster column schema of a pandera model, for the asset's definition metadata."""
    return dg.TableSchema(columns=[
        dg.TableColumn(name=name, type=str(col.dtype), description=col.description,
                       constraints=dg.TableColumnConstraints(nullable=col.nullable, unique=col.unique))
        for name, col in model.to_schema().columns.items()
    ])


def published_schema(con, table: str, model: type[pa.DataFrameModel] | None,
                     describe: Callable[[str], str | None] | None) -> dg.TableSchema:
    """The schema of the table as written (every column, its warehouse type), described by the contract, else by
    the declaration's `describe` (lead attributes, ad features), else by the glossary of shared columns."""
    named = model.to_schema().columns if model is not None else {}
    cols = []
    for name, sql_type, null, *_ in con.execute(f"DESCRIBE {table}").fetchall():
        text = ((named[name].description if name in named else None) or (describe(name) if describe else None)
                or GLOSSARY.get(name))
        cols.append(dg.TableColumn(name=name, type=sql_type, description=text,
                                   constraints=dg.TableColumnConstraints(nullable=null == "YES")))
    return dg.TableSchema(columns=cols)


def metadata_value(value: Any):
    """Plain values from a build as Dagster metadata: frames as Markdown tables, dicts and lists as JSON."""
    if isinstance(value, pd.DataFrame):
        return dg.MetadataValue.md(value.to_markdown(index=False) if len(value) else "(no rows)")
    if isinstance(value, dict | list):
        return dg.MetadataValue.json(value)
    if isinstance(value, Path):
        return dg.MetadataValue.path(str(value))
    if isinstance(value, dt.date):
        return str(value)
    return value


def preview(con, table: str) -> pd.DataFrame:
    """The table's first rows for the UI, without e-mails, phone numbers or click ids: the run's metadata is kept and
    shown to everyone with access to Dagster, so it holds no personal data."""
    hidden = [f'"{c}"' for c in columns(con, table) if c in LEAD_CONTACT_COLUMNS]
    exclude = f" EXCLUDE ({', '.join(hidden)})" if hidden else ""
    return con.execute(f"SELECT *{exclude} FROM {table} LIMIT {PREVIEW_ROWS}").df()


def check_result(check: Check) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        check_name=check.name, passed=check.passed, description=check.description,
        severity=dg.AssetCheckSeverity.ERROR if check.severity == "error" else dg.AssetCheckSeverity.WARN,
        metadata={k: metadata_value(v) for k, v in check.metadata.items()},
    )


def problems_text(where: str, problems: list[Problem]) -> str:
    return "\n".join(f"- {p.describe(where)}" for p in problems)


def contract_failure(check_name: str, where: str, problems: list[Problem],
                     report: str = "") -> tuple[dg.AssetCheckResult, dg.Failure]:
    """The failed check and the unretried failure that end an asset whose data broke its contract."""
    text = problems_text(where, problems)
    said = f"{where} failed its contract; nothing was written and the previous table stays"
    check = dg.AssetCheckResult(
        check_name=check_name, passed=False, severity=dg.AssetCheckSeverity.ERROR, description=f"{said}.",
        metadata={"problems": dg.MetadataValue.md(text), "problem_count": len(problems)},
    )
    extra = {"report": dg.MetadataValue.md(f"```\n{report}\n```")} if report else None
    return check, dg.Failure(allow_retries=False, description=f"{said}:\n{text}", metadata=extra)


def _run_facts(context: dg.AssetExecutionContext) -> Callable[[str], Any]:
    def facts(what: str):
        if what == "checks":
            out = []
            for entry in context.instance.all_logs(context.run.run_id,
                                                   of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION):
                ev = entry.dagster_event.event_specific_data
                out.append({"asset": ev.asset_key.to_user_string(), "check": ev.check_name, "passed": ev.passed,
                            "severity": ev.severity.value if ev.severity else None, "description": ev.description})
            return out
        if what == "skipped":
            out = {}
            for entry in context.instance.all_logs(context.run.run_id,
                                                   of_type=dg.DagsterEventType.ASSET_MATERIALIZATION):
                mat = entry.dagster_event.event_specific_data.materialization
                if "skipped" in mat.metadata:
                    out[mat.asset_key.to_user_string()] = str(mat.metadata["skipped"].value)
            return out
        raise ValueError(f"unknown run fact {what!r}")
    return facts


def _as_of_reader(con, run_window: RunWindow) -> Callable[[], dt.date]:
    """The as-of date gold/as_of_date recorded; refuses a run that asks for another one without rebuilding it."""
    def read() -> dt.date:
        target = table_name(AS_OF_KEY)
        try:
            value = con.execute(f"SELECT as_of_date FROM {target}").fetchall()[0][0]
        except Exception:  # noqa: BLE001 (missing table or schema: say what to run)
            raise dg.Failure(allow_retries=False, description=(
                f"No as-of date recorded yet ({target}): materialise {AS_OF_KEY} first (it is part of every job)."
            )) from None
        asked = run_window.as_of_date
        if asked and asked != str(value):
            raise dg.Failure(allow_retries=False, description=(
                f"This run asks for as of {asked}, but the warehouse's tables are as of {value}: include "
                f"{AS_OF_KEY} and the tables it should rebuild in the selection (e.g. `elv run --as-of {asked}`)."
            ))
        return value
    return read


def _make_build(key: str, reads: tuple[str, ...], context, con, config, chain, elv, artifacts, run_window,
                target: str, contract, features) -> Build:
    return Build(
        key, reads, con, config=config, chain=chain, paths=elv, artifacts=artifacts, run_id=context.run.run_id,
        features=features,
        log=context.log.info, warn=context.log.warning,
        stage=lambda sql: stage(con, target, sql),
        stage_frame=lambda frame, typed=False: stage_frame(con, target, frame, contract if typed else None),
        stage_name=lambda: stage_name(target),  # the body ensured the schemas
        as_of=_as_of_reader(con, run_window), run_facts=_run_facts(context),
        asked_as_of=run_window.as_of_date,
        tag_run=lambda tags: context.instance.add_run_tags(context.run.run_id, tags),
    )


def _compute(config: type[dg.Config] | None, body: Callable) -> Callable:
    """The asset's compute function: `body(context, config, resources...)`, with a typed `config` parameter only when
    the asset has settings (Dagster reads the launchpad's config schema from that annotation)."""
    if config is None:
        def compute(context: dg.AssetExecutionContext, warehouse: Warehouse, elv: ElvSettings, artifacts: Artifacts,
                    run_window: RunWindow, chain: ChainSettings, features: FeatureSettings):
            yield from body(context, None, warehouse, elv, artifacts, run_window, chain, features)
    else:
        def compute(context: dg.AssetExecutionContext, config: config, warehouse: Warehouse,  # type: ignore[valid-type]
                    elv: ElvSettings, artifacts: Artifacts, run_window: RunWindow, chain: ChainSettings,
                    features: FeatureSettings):
            yield from body(context, config, warehouse, elv, artifacts, run_window, chain, features)
    return compute


def _not_evaluated(checks: Iterable[CheckDecl], reason: str) -> list[dg.AssetCheckResult]:
    return [dg.AssetCheckResult(check_name=c.name, passed=False, severity=dg.AssetCheckSeverity.WARN,
                                description=f"Skipped: {reason}") for c in checks]


def _emit_checks(decls: tuple[CheckDecl, ...], checks: list[Check]) -> list[dg.AssetCheckResult]:
    """The build's checks, in declaration order; a declared check the build did not report is an error here."""
    by_name = {c.name: c for c in checks}
    missing = [d.name for d in decls if d.name not in by_name]
    extra = sorted(set(by_name) - {d.name for d in decls})
    if missing or extra:
        raise RuntimeError(f"the build's checks do not match the declaration: missing {missing}, undeclared {extra}")
    return [check_result(by_name[d.name]) for d in decls]


SQL_KINDS = frozenset({"sql", "csv"})  # a table asset of only these kinds does its work in DuckDB


def table_asset(key: str, build: Callable[[Build], Built], *, contract: type[pa.DataFrameModel] | None,
                reads: Iterable[str] = (), description: str, config: type[dg.Config] | None = None,
                checks: Iterable[CheckDecl] = (), kinds: Iterable[str] = ("sql",),
                contract_check: str = "contract", validate: bool = True,
                describe: Callable[[str], str | None] | None = None, extra_metadata: dict | None = None,
                append_on: tuple[str, ...] | None = None) -> dg.AssetsDefinition:
    """A DuckDB table asset: `build` stages its content; the contract gate and the swap happen here.

    `validate=False` when the build checks its own input (bronze: the file against its input contract, raising
    InputRefused) and the staged table is raw text that the contract describes only once typed.
    `kinds` say what does the work. Only {"sql"} (the default) or {"csv"} (DuckDB reads the file): the build keeps
    its data in DuckDB, so its connection may hold ELV_DUCKDB_SQL_MEMORY; a build that also holds data frames names
    its library (pandas, numpy, ...) and DuckDB keeps to ELV_DUCKDB_MEMORY beside them.
    `append_on`: an append-only table (a ledger). The build stages only the new rows; once they meet the contract
    they are appended in one transaction, replacing earlier rows with the same values of these columns (a replay
    of a day replaces that day). A skipped build appends nothing and the table keeps every earlier row.
    """
    asset_key, target, reads, checks, kinds = key_of(key), table_name(key), tuple(reads), tuple(checks), set(kinds)
    sql_only = kinds <= SQL_KINDS
    check_specs = [dg.AssetCheckSpec(contract_check, asset=asset_key, description=f"{target} meets its contract.")]
    check_specs += [dg.AssetCheckSpec(c.name, asset=asset_key, description=c.description, blocking=c.blocking)
                    for c in checks]
    static = {"dagster/table_name": target, **(extra_metadata or {})}
    if contract is not None:
        static["dagster/column_schema"] = column_schema(contract)

    def body(context, config, warehouse: Warehouse, elv, artifacts: Artifacts, run_window, chain, features):
        with warehouse.get_connection(sql_only=sql_only) as con:
            ensure_schemas(con)
            b = _make_build(key, reads, context, con, config, chain, elv, artifacts, run_window, target, contract,
                            features)
            skipped = None
            try:
                built = build(b)
            except Refused as refused:
                raise dg.Failure(allow_retries=False, description=str(refused)) from None
            except Skip as skip:
                skipped, built = skip.reason, Built()
                if b.staged:
                    drop(con, b.staged)
                b.stage(contract_select(contract, None))  # empty and typed: appends nothing to a ledger
            except InputRefused as refused:
                if b.staged:
                    drop(con, b.staged)
                check, failure = contract_failure(contract_check, refused.where, refused.problems, refused.detail)
                yield check
                raise failure from None
            if b.staged is None:
                raise RuntimeError(f"the build of {key} staged nothing: it must call b.stage() or b.stage_frame()")
            problems = contract_problems(con, contract, b.staged) if validate and contract is not None else []
            if problems:
                drop(con, b.staged)
                check, failure = contract_failure(contract_check, target, problems)
                yield check
                raise failure
            if append_on:
                built.metadata.setdefault("appended_rows", append_in(con, b.staged, target, append_on))
            else:
                swap_in(con, b.staged, target)
            rows = row_count(con, target)
            yield dg.AssetCheckResult(check_name=contract_check, passed=True, metadata={"rows": rows})
            if skipped:
                context.log.warning(f"{key} skipped: {skipped}")
                yield from _not_evaluated(checks, skipped)
            else:
                yield from _emit_checks(checks, built.checks)
            metadata = {
                "dagster/row_count": rows,
                "dagster/column_schema": published_schema(con, target, contract, describe),
                **({"skipped": skipped} if skipped else {}),
                **({"as_of_date": str(b.as_of)} if AS_OF_KEY in reads else {}),
                **{k: metadata_value(v) for k, v in built.metadata.items()},
            }
            if "preview" not in metadata:
                metadata["preview"] = metadata_value(preview(con, target))
            yield dg.MaterializeResult(metadata=metadata)

    return dg.asset(key=asset_key, deps=[key_of(r) for r in reads], group_name=asset_key.path[0],
                    kinds={"duckdb", *kinds, *({"pandera"} if contract is not None else ())}, owners=OWNERS,
                    description=description, metadata=static, check_specs=check_specs)(_compute(config, body))


def artifact_asset(key: str, build: Callable[[Build], Built], *, reads: Iterable[str] = (), description: str,
                   config: type[dg.Config] | None = None, checks: Iterable[CheckDecl] = (),
                   kinds: Iterable[str] = ()) -> dg.AssetsDefinition:
    """A model or report asset: `build` returns its artefact, stored under the asset's key in the artefact store.

    A skipped build stores nothing (the last artefact, if any, stays: a serving model outlives a week without
    enough new labels) and records why.
    """
    asset_key, reads, checks = key_of(key), tuple(reads), tuple(checks)
    check_specs = [dg.AssetCheckSpec(c.name, asset=asset_key, description=c.description, blocking=c.blocking)
                   for c in checks]

    def body(context, config, warehouse: Warehouse, elv, artifacts: Artifacts, run_window, chain, features):
        with warehouse.get_connection() as con:
            b = _make_build(key, reads, context, con, config, chain, elv, artifacts, run_window, "", None, features)
            try:
                built = build(b)
            except Refused as refused:
                raise dg.Failure(allow_retries=False, description=str(refused)) from None
            except Skip as skip:
                context.log.warning(f"{key} skipped: {skip.reason}")
                yield from _not_evaluated(checks, skip.reason)
                yield dg.MaterializeResult(metadata={"skipped": skip.reason})
                return
            if built.artifact is not None:
                artifacts.save(key, built.artifact)
            yield from _emit_checks(checks, built.checks)
            yield dg.MaterializeResult(metadata={
                **({"as_of_date": str(b.as_of)} if AS_OF_KEY in reads else {}),
                **({"path": dg.MetadataValue.path(str(artifacts.store.path(key)))} if built.artifact is not None else {}),
                **{k: metadata_value(v) for k, v in built.metadata.items()},
            })

    return dg.asset(key=asset_key, deps=[key_of(r) for r in reads], group_name=asset_key.path[0], kinds=set(kinds),
                    owners=OWNERS, description=description, check_specs=check_specs,
                    metadata={"artifact": f"<ELV_ARTIFACTS_DIR>/{key}.joblib"})(_compute(config, body))
