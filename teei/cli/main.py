"""The `teei` command."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn
from rich.table import Table

from teei.cli import serve as serving
from teei.platform.settings import Settings, SettingsError, load_settings

# Unexpected errors keep their traceback; an unreachable service is one line (see `main`).
app = typer.Typer(
    help="TEEI impact data platform.", no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False
)
services_app = typer.Typer(help="The embedded PostgreSQL and NATS.", no_args_is_help=True)
db_app = typer.Typer(help="The database: migrations and reset.", no_args_is_help=True)
app.add_typer(services_app, name="services")
app.add_typer(db_app, name="db")
eval_app = typer.Typer(help="Measure quality against labelled data.", no_args_is_help=True)
app.add_typer(eval_app, name="eval")
q2q_app = typer.Typer(help="Q2Q: free text to outcome scores.", no_args_is_help=True)
app.add_typer(q2q_app, name="q2q")

# Piped or captured output gets a width that fits the summary table instead of 80 columns.
console = Console(width=None if sys.stdout.isatty() else 120)
errors = Console(stderr=True, width=None if sys.stderr.isatty() else 120)

PROJECT_SCHEMAS = ("raw", "ops", "staging", "core", "pii")


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        errors.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc


def _fail(message: str, code: int = 1) -> typer.Exit:
    errors.print(f"[red]error:[/red] {message}")
    return typer.Exit(code)


# --- services -----------------------------------------------------------------------------------


def _start_services(settings: Settings) -> list[str]:
    """Start the embedded services this configuration uses; returns the ones that were not running."""
    from teei.devtools.services import ServiceError, Services

    services = Services(settings)
    started = [s.name for s in services.status() if s.embedded and s.detail == "stopped"]
    try:
        services.start()
    except ServiceError as exc:
        raise _fail(str(exc)) from exc
    return started


@services_app.command("start")
def services_start() -> None:
    """Start the embedded PostgreSQL and NATS (idempotent; waits until healthy)."""
    settings = _settings()
    started = _start_services(settings)
    for name in started:
        console.print(f"started {name}")
    services_status()


@services_app.command("stop")
def services_stop() -> None:
    """Stop the embedded PostgreSQL and NATS."""
    from teei.devtools.services import Services

    stopped = Services(_settings()).stop()
    console.print("stopped " + ", ".join(stopped) if stopped else "nothing was running")


@services_app.command("status")
def services_status() -> None:
    """Each service's URL and health; exit code 1 when one is down."""
    from teei.devtools.services import Services

    statuses = Services(_settings()).status()
    for status in statuses:
        health = "[green]healthy[/green]" if status.healthy else "[red]down[/red]"
        where = "embedded" if status.embedded else "external"
        # One line per service, never wrapped: the URL is meant to be copied.
        console.print(f"{status.name:<9} {health:<7} {status.url}  ({where}; {status.detail})", soft_wrap=True)
    if not all(status.healthy for status in statuses):
        raise typer.Exit(1)


# --- database -----------------------------------------------------------------------------------


@db_app.command("migrate")
def db_migrate() -> None:
    """Apply the versioned migrations of the raw and ops schemas (idempotent)."""
    from teei.platform.migrate import current_revision, migrate

    settings = _settings()
    migrate(settings.postgres_url)
    console.print(f"database at revision {current_revision(settings.postgres_url)}")


@db_app.command("reset")
def db_reset(yes: Annotated[bool, typer.Option("--yes", help="Do not ask.")] = False) -> None:
    """Drop and recreate the project's schemas (raw, ops, staging, core, pii)."""
    import sqlalchemy as sa

    from teei.platform.database import create_db_engine
    from teei.platform.migrate import migrate

    settings = _settings()
    if not yes and not typer.confirm(f"Drop every table in {', '.join(PROJECT_SCHEMAS)}?"):
        raise typer.Exit(1)
    engine = create_db_engine(settings.postgres_url, pool_size=1)
    with engine.begin() as db:
        for schema in PROJECT_SCHEMAS:
            db.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()
    migrate(settings.postgres_url)
    console.print("schemas dropped and migrations applied; run `teei run` to load the landing folder again")


# --- pipeline -----------------------------------------------------------------------------------


def _run(settings: Settings) -> int:
    from teei.cli.errors import first_line
    from teei.cli.pipeline import run_pipeline

    # Bound to the terminal now: the run redirects stdout (dbt's output) to its log file.
    progress_console = Console(file=sys.stdout, width=console.width if not sys.stdout.isatty() else None)
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=progress_console,
        transient=True,
    ) as progress:
        task = progress.add_task("starting Dagster run", total=None)

        def on_progress(done: int, total: int, label: str) -> None:
            progress.update(task, completed=done, total=total, description=f"materialized {label}")

        summary = run_pipeline(settings, on_progress=on_progress)

    # What failed comes first, with its reason: it is what the operator has to act on.
    failed_loads = [load for load in summary.loads if load["status"] == "failed"]
    for load in failed_loads:
        errors.print(
            f"[red]failed:[/red] {load['file_name']} (load {load['load_id']}): {first_line(load['error'] or '')}",
            soft_wrap=True,
        )
    for load in summary.loads:
        if load["status"] == "skipped" and load["error"]:
            console.print(f"[yellow]held:[/yellow] {load['file_name']}: {load['error']}", soft_wrap=True)
    table = Table("file", "entity", "in", "loaded", "quarantined", "duplicate", "status", title="Loads")
    order = {"failed": 0, "running": 1, "succeeded": 2, "skipped": 3}
    for load in sorted(summary.loads, key=lambda load: order.get(load["status"], 9)):
        style = {"failed": "red", "skipped": "dim"}.get(load["status"], "green")
        table.add_row(
            load["file_name"],
            f"{load['source']}/{load['entity']}",
            str(load["rows_in"]),
            str(load["rows_loaded"]),
            str(load["rows_quarantined"]),
            str(load["rows_duplicate"]),
            f"[{style}]{load['status']}[/{style}]",
        )
    if not summary.loads:
        table.add_row("(no files waiting)", "", "", "", "", "", "")
    console.print(table)
    if summary.q2q is not None:
        q2q = summary.q2q
        console.print(
            f"texts scored (Q2Q, {q2q.get('provider')}): {q2q.get('texts_scored', 0)}, "
            f"unchanged: {q2q.get('texts_unchanged', 0)}, unscorable: {q2q.get('texts_unscorable', 0)}, "
            f"other languages: {q2q.get('texts_other_language', 0)}"
        )
    if summary.publish:
        console.print(f"events published: {summary.publish.sent}, waiting in the outbox: {summary.publish.pending}")
    console.print(
        f"Dagster run {summary.run_id}: " + ("[green]succeeded[/green]" if summary.succeeded else "[red]failed[/red]")
    )
    if summary.total and summary.materialized < summary.total and not summary.succeeded:
        console.print(f"materialized {summary.materialized} of {summary.total} assets before the run stopped")
    if summary.error:
        errors.print(f"[red]error:[/red] {first_line(summary.error)}", soft_wrap=True)
    if summary.log_file:
        console.print(f"full log of the run: {summary.log_file} (and the run's page in the Dagster UI)")
    if failed_loads:
        console.print(
            "a failed file is not tried again until it changes; fix it and drop it again, "
            "or `teei retry --load ID` once the cause is gone"
        )
    return 0 if summary.succeeded and not failed_loads else 1


@app.command("run")
def run() -> None:
    """The whole pipeline once, headless: every waiting file, dbt build, event outbox, publish."""
    from teei.platform.migrate import migrate

    settings = _settings()
    # As `teei up` does: a fresh database (or one a release behind) is brought to the current migration first.
    migrate(settings.postgres_url)
    raise typer.Exit(_run(settings))


@app.command("retry")
def retry(
    load: Annotated[
        int, typer.Option("--load", help="The failed load (its id in `ops.loads`, as `teei run` printed).")
    ],
) -> None:
    """Release a file that failed, so its bytes are loaded again, then run the pipeline once."""
    import sqlalchemy as sa

    from teei.platform.database import create_db_engine
    from teei.platform.migrate import migrate

    settings = _settings()
    migrate(settings.postgres_url)
    engine = create_db_engine(settings.postgres_url, pool_size=1)
    with engine.begin() as db:
        released = db.execute(
            sa.text(
                "UPDATE ops.loads SET released_at = now() "
                "WHERE load_id = :load AND status = 'failed' AND failure = 'file' RETURNING file_name"
            ),
            {"load": load},
        ).scalar_one_or_none()
        status = db.execute(sa.text("SELECT status FROM ops.loads WHERE load_id = :load"), {"load": load}).scalar()
    engine.dispose()
    if released is None:
        reason = "no such load" if status is None else f"it is {status}, not a failed file"
        raise _fail(f"load {load} cannot be retried: {reason}", 2)
    console.print(f"released {released} (load {load}); running the pipeline")
    raise typer.Exit(_run(settings))


@app.command("generate")
def generate(
    out: Annotated[Path, typer.Option("--out", help="Folder to write into, laid out like the landing folder.")],
    scale: Annotated[int, typer.Option(min=1, help="Participants (newcomers); everything else follows.")] = 100,
    seed: Annotated[int, typer.Option(help="The same scale and seed write the same bytes.")] = 1,
    messy: Annotated[
        bool, typer.Option("--messy", help="Mix in what real exports do: encodings, delimiters, bad and repeated rows.")
    ] = False,
) -> None:
    """Write deterministic, realistic exports of every source, and the counts a first load of them gives."""
    from teei.devtools.generate import MANIFEST_NAME, generate_exports

    manifest = generate_exports(out, scale=scale, seed=seed, messy=messy)
    table = Table("file", "entity", "in", "loaded", "quarantined", "duplicate", title="Generated exports")
    for relative, counts in manifest.files.items():
        table.add_row(
            relative,
            f"{counts.source}/{counts.entity}",
            str(counts.rows_in),
            str(counts.rows_loaded),
            str(counts.rows_quarantined),
            str(counts.rows_duplicate),
        )
    console.print(table)
    console.print(f"manifest (what a first load into an empty database gives): {out / MANIFEST_NAME}")


@eval_app.command("q2q")
def eval_q2q(
    labels: Annotated[
        Path, typer.Option("--labels", exists=True, dir_okay=False, help="JSON Lines: id, lang, text, labels.")
    ],
    provider: Annotated[
        list[str] | None, typer.Option("--provider", help="A provider to evaluate (repeatable); default: every one.")
    ] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the figures as JSON here.")] = None,
    predictions_out: Annotated[
        Path | None, typer.Option("--predictions", help="Write one JSON line per text and provider here.")
    ] = None,
    split: Annotated[
        str | None, typer.Option("--split", help="Only the lines whose `split` is this (train, dev, test).")
    ] = None,
) -> None:
    """Precision, recall and F1 per dimension × polarity, the macro-F1 and the majority baseline beside
    them, overall and per language (docs/q2q.md)."""
    from teei.outcomes import evaluation
    from teei.outcomes.registry import PROVIDERS, UnknownProviderError, get_provider

    try:
        texts = evaluation.read_labelled(labels, split)
        providers = [get_provider(name) for name in (provider or list(PROVIDERS))]
    except (evaluation.LabelledFileError, UnknownProviderError) as exc:
        raise _fail(str(exc), 2) from exc
    documents, lines = [], []
    for scorer in providers:
        predicted = evaluation.predict(scorer, texts)
        report = evaluation.evaluate(texts, predicted)
        console.print(evaluation.render(scorer.name, report), markup=False, highlight=False)
        documents.append(evaluation.as_json(scorer, report))
        lines += evaluation.prediction_lines(scorer.name, texts, predicted)
    if json_out:
        json_out.write_text(
            json.dumps({"labels": str(labels), "split": split, "providers": documents}, indent=2) + "\n"
        )
    if predictions_out:
        predictions_out.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


@q2q_app.command("rescore")
def q2q_rescore() -> None:
    """Score every text again under the current provider, model and taxonomy versions (after a version
    changes; a run otherwise reads only new and changed texts). The metrics take the new scores at the
    next `teei run`."""
    from teei.outcomes.registry import UnknownProviderError, get_provider
    from teei.outcomes.scoring import score_pending_texts
    from teei.outcomes.taxonomy import load_taxonomy
    from teei.platform.database import create_db_engine
    from teei.platform.migrate import migrate

    settings = _settings()
    migrate(settings.postgres_url)
    try:
        provider = get_provider(settings.q2q_provider)
    except UnknownProviderError as exc:
        raise _fail(str(exc), 2) from exc
    engine = create_db_engine(settings.postgres_url, pool_size=2, application_name="teei-q2q")
    try:
        report = score_pending_texts(engine, provider, load_taxonomy().version, rescore=True)
    finally:
        engine.dispose()
    console.print(
        f"texts scored (Q2Q, {provider.name} {provider.model_version}): {report.texts_scored}, "
        f"unchanged: {report.texts_unchanged}, unscorable: {report.texts_unscorable}, "
        f"other languages: {report.texts_other_language}; `teei run` rebuilds the metrics from them"
    )


@app.command("quarantine")
def quarantine(
    load: Annotated[int | None, typer.Option("--load", help="Only this load id.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many rows.")] = 200,
) -> None:
    """The rejected rows with their reasons."""
    import sqlalchemy as sa

    from teei.platform.database import create_db_engine

    settings = _settings()
    engine = create_db_engine(settings.postgres_url, pool_size=1)
    with engine.connect() as db:
        rows = db.execute(
            sa.text(
                """
                SELECT q.load_id, l.file_name, q.source_row_number, q.raw_record, q.reasons
                  FROM ops.quarantine q JOIN ops.loads l USING (load_id)
                 WHERE CAST(:load AS bigint) IS NULL OR q.load_id = :load
                 ORDER BY q.load_id, q.source_row_number
                 LIMIT :limit
                """
            ),
            {"load": load, "limit": limit},
        ).all()
    engine.dispose()
    table = Table("load", "file", "row", "reasons", "record", show_lines=True)
    for row in rows:
        table.add_row(
            str(row.load_id),
            row.file_name,
            str(row.source_row_number),
            "\n".join(row.reasons),
            json.dumps(row.raw_record, ensure_ascii=False),
        )
    console.print(table if rows else "no quarantined rows")


# --- token --------------------------------------------------------------------------------------


@app.command("token")
def token(
    role: Annotated[str, typer.Option("--role", help="admin, company_user or participant.")],
    company: Annotated[str | None, typer.Option("--company", help="The company id (company_user).")] = None,
    user: Annotated[str | None, typer.Option("--user", help="The 64-hex user id (participant).")] = None,
    ttl: Annotated[int, typer.Option("--ttl", min=60, help="Seconds until it expires.")] = 8 * 3600,
    sub: Annotated[str | None, typer.Option("--sub", help="The subject (default dev-<role>).")] = None,
) -> None:
    """Mint a development JWT for the API (signed with TEEI_JWT_SECRET); prints only the token."""
    from api.auth import ROLES, TokenError, mint_token

    settings = _settings()
    if role not in ROLES:
        raise _fail(f"--role must be one of {', '.join(ROLES)}", 2)
    if role == "company_user" and not company:
        raise _fail("a company_user token needs --company", 2)
    if role == "participant" and not user:
        raise _fail("a participant token needs --user (the 64-hex user id)", 2)
    try:
        minted = mint_token(
            settings,
            role=role,  # type: ignore[arg-type]
            sub=sub,
            company_id=company if role == "company_user" else None,
            user_id=user if role == "participant" else None,
            ttl_seconds=ttl,
        )
    except (ValueError, TokenError) as exc:
        raise _fail(str(exc)) from exc
    print(minted)


# --- consume and up ---------------------------------------------------------------------------


@app.command("consume")
def consume() -> None:
    """The event consumer that keeps profiles current: journey events set flags at once (until Ctrl-C)."""
    import asyncio
    import logging

    from teei.events.consumer import SUBJECTS, consume
    from teei.platform.database import create_db_engine

    settings = _settings()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    engine = create_db_engine(settings.postgres_url, application_name="teei-consumer")
    console.print(f"consuming {', '.join(SUBJECTS)} from {settings.nats_server_url}; Ctrl-C to stop")

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        stats = await consume(engine, settings.nats_server_url, stop=stop)
        console.print(f"stopped after {stats.handled} event(s)")

    try:
        asyncio.run(main())
    finally:
        engine.dispose()


@app.command("up")
def up(
    serve: Annotated[bool, typer.Option(help="Serve the Dagster UI, the API and the dbt docs until Ctrl-C.")] = True,
) -> None:
    """Start services, migrate, load the sample data through the pipeline, then serve the UI, API and dbt docs."""
    from teei.devtools.services import Services, port_is_free
    from teei.platform.migrate import migrate

    settings = _settings()
    started = _start_services(settings)
    migrate(settings.postgres_url)
    copied = serving.stage_sample_data(settings)
    console.rule("TEEI impact data platform")
    console.print(f"data under {settings.home_dir}; landing folder {settings.landing_path}")
    if copied:
        console.print(f"sample exports copied to the landing folder: {len(copied)} file(s)")
    code = _run(settings)
    serving.print_totals(settings, console)
    dbt_docs = serving.generate_dbt_docs(settings)
    dagster_url = f"http://127.0.0.1:{settings.dagster_port}"
    api_url = f"http://127.0.0.1:{settings.api_port}"
    console.print(f"Dagster UI  {dagster_url}   (runs, assets, the nightly schedule)")
    console.print(f"HTTP API    {api_url}/docs   (health: {api_url}/health/ready)")
    if dbt_docs:
        static_copy = serving.dbt_docs_dir(settings) / "static_index.html"
        console.print(f"dbt docs    http://127.0.0.1:{settings.docs_port}   (static copy: {static_copy})")
    else:
        errors.print(f"[yellow]dbt docs not generated[/yellow]; see {settings.home_dir / 'logs' / 'dbt-docs.log'}")
    console.print(f"PostgreSQL  {settings.postgres_url}")
    if not serve:
        raise typer.Exit(code)
    ports = [settings.dagster_port, settings.api_port] + ([settings.docs_port] if dbt_docs else [])
    busy = [str(p) for p in ports if not port_is_free(p)]
    if busy:
        raise _fail(f"port(s) {', '.join(busy)} are taken; set TEEI_DAGSTER_PORT / TEEI_API_PORT / TEEI_DOCS_PORT")
    # Ctrl-C and a plain `kill` both stop what `up` started (SIGINT may arrive ignored from a
    # background shell, so it is installed explicitly).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, serving.interrupt)
    processes = serving.serve(settings, dbt_docs=dbt_docs)
    console.print(f"serving (logs in {settings.home_dir / 'logs'}); press Ctrl-C to stop")
    try:
        while all(process.poll() is None for process in processes):
            time.sleep(1)
        raise _fail(f"a server exited early; see the logs in {settings.home_dir / 'logs'}")
    except KeyboardInterrupt:
        console.print("stopping…")
    finally:
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        services = Services(settings)
        for name, service in (("nats", services.nats), ("postgres", services.postgres)):
            if name in started and service is not None:
                service.stop()
                console.print(f"stopped {name}")


def main() -> None:
    """The console entry point: an unreachable or lost service is one line and exit code 1, not a traceback."""
    try:
        app()
    except Exception as exc:
        # Imported here, not at the top: the database and NATS drivers would slow every `teei --help`.
        from teei.cli.errors import operator_message

        try:
            settings = load_settings()
            message = operator_message(exc, postgres_url=settings.postgres_url, nats_url=settings.nats_server_url)
        except SettingsError:
            message = operator_message(exc)
        if message is None:
            raise
        errors.print(f"[red]error:[/red] {message}", soft_wrap=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
