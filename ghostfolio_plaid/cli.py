"""``ghostfolio-plaid``: one entry point for the API, the worker, migrations, the emulator and dev tokens.

Each subcommand loads what it needs when it runs (plaid-python, Strawberry, RQ and Tortoise take seconds), so
``--help`` and ``token`` answer at once. Services (``serve``, ``worker``, ``scheduler``) log JSON lines unless
``LOG_FORMAT=text``; the other commands talk to people in plain text and log only warnings.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import Any, TypeVar

from ghostfolio_plaid.config import Settings
from ghostfolio_plaid.errors import ConfigError
from ghostfolio_plaid.logs import configure_logging
from ghostfolio_plaid.store_checks import StoreUnreachable, check_postgres, check_redis, report_ghostfolio

DESCRIPTION = "One entry point for the API, the worker, migrations, the emulator and dev tokens."
T = TypeVar("T")


def run_to_the_end(coroutine: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run``, with asyncio loaded only by the commands that use it."""
    import asyncio

    return asyncio.run(coroutine)


def log_as_a_service(settings: Settings) -> None:
    """Logging of a long-running process: INFO, JSON lines for collectors unless LOG_FORMAT says text."""
    configure_logging(settings.secret_values(), log_format=settings.log_format or "json")


def log_for_a_person(settings: Settings) -> None:
    """Logging of a one-shot command: warnings only, as text unless LOG_FORMAT says JSON; output is printed."""
    configure_logging(settings.secret_values(), logging.WARNING, log_format=settings.log_format or "text")


def require_stores(settings: Settings) -> None:
    """Stop with one line (exit 2) when PostgreSQL or Redis does not answer, before anything starts."""
    run_to_the_end(check_postgres(settings.database_url))
    check_redis(settings.redis_url)


def say_whether_ghostfolio_answers(settings: Settings) -> None:
    """With GHOSTFOLIO_URL set, one log line on whether Ghostfolio answers; the service starts either way."""
    run_to_the_end(report_ghostfolio(settings))


def serve(args: argparse.Namespace) -> None:
    from ghostfolio_plaid.serve_command import run_serve

    settings = Settings.from_env()
    log_as_a_service(settings)
    require_stores(settings)
    say_whether_ghostfolio_answers(settings)
    run_serve(settings, host=args.host, port=args.port, workers=args.workers)


def demo(args: argparse.Namespace) -> None:
    from ghostfolio_plaid.demo import run_demo

    run_demo(args.host, args.port)


def worker(args: argparse.Namespace) -> None:
    settings = Settings.from_env(require_jwt=False)
    log_as_a_service(settings)
    require_stores(settings)
    say_whether_ghostfolio_answers(settings)
    from ghostfolio_plaid.workers.horse import HorseLimits
    from ghostfolio_plaid.workers.runner import run_worker

    limits = HorseLimits(max_jobs=args.max_jobs_per_horse, max_mib=args.max_horse_mib)
    run_worker(settings, burst=args.burst, horse_limits=limits)


def positive_int(raw: str) -> int:
    """A whole number of at least 1, for the worker's horse limits."""
    if not raw.isdigit() or int(raw) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {raw!r}")
    return int(raw)


def scheduler(args: argparse.Namespace) -> None:
    settings = Settings.from_env(require_jwt=False)
    log_as_a_service(settings)
    require_stores(settings)
    from ghostfolio_plaid.redis_connections import sync_redis
    from ghostfolio_plaid.workers.schedule import build_cron

    build_cron(settings, sync_redis(settings.redis_url)).start()


def migrate(args: argparse.Namespace) -> None:
    from ghostfolio_plaid.migrate import apply_migrations

    settings = Settings.from_env(require_jwt=False)
    log_for_a_person(settings)
    for line in run_to_the_end(apply_migrations(settings.database_url)).lines():
        print(line)


def emulator(args: argparse.Namespace) -> None:
    from ghostfolio_plaid.plaid_emulator import EmulatorConfig
    from ghostfolio_plaid.plaid_emulator import serve as serve_emulator

    settings = Settings.from_env(require_jwt=False)
    configure_logging(settings.secret_values(), log_format=settings.log_format or "text")
    config = EmulatorConfig()
    if settings.plaid_client_id and settings.plaid_secret:
        config = EmulatorConfig(client_id=settings.plaid_client_id, secret=settings.plaid_secret)
    serve_emulator(args.host, args.port, config)


def sync(args: argparse.Namespace) -> None:
    from ghostfolio_plaid.sync_command import run

    settings = Settings.from_env(require_jwt=False)
    log_for_a_person(settings)
    status = run_to_the_end(run(settings, args.item, wait=args.wait, inline=args.inline))
    if status:
        raise SystemExit(status)


def push(args: argparse.Namespace) -> None:
    settings = Settings.from_env(require_jwt=False)
    if settings.ghostfolio_url is None:
        raise ConfigError(["GHOSTFOLIO_URL: required by push (the address of Ghostfolio, e.g. http://ghostfolio:3333)"])
    log_for_a_person(settings)
    require_stores(settings)
    from ghostfolio_plaid.push_command import run

    status = run_to_the_end(run(settings, args.item))
    if status:
        raise SystemExit(status)


def rotate_keys(args: argparse.Namespace) -> None:
    from ghostfolio_plaid.key_rotation import rotate_keys as rotate

    settings = Settings.from_env(require_jwt=False)
    log_for_a_person(settings)
    result = run_to_the_end(rotate(settings))
    print(
        f"rotated {result.rotated} access tokens; {result.current} were already on the newest key; "
        f"{result.unreadable} could not be read by any configured key and were left as they are"
    )


def export_schema(args: argparse.Namespace) -> None:
    from ghostfolio_plaid.schema import schema

    Path(args.output).write_text(schema.as_str() + "\n")
    print(f"wrote {args.output}")


def token(args: argparse.Namespace) -> None:
    from ghostfolio_plaid.auth import issue_token

    settings = Settings.from_env(require_jwt=False)
    print(issue_token(args.user_id, settings.jwt_secret_key or demo_jwt_secret()))


def demo_jwt_secret() -> str:
    """The JWT secret of a demo started in this folder (said on stderr), or a ConfigError saying what to do."""
    from ghostfolio_plaid.demo_state import DATA_DIR, SECRETS_FILE, existing_demo_jwt_secret

    secret, where = existing_demo_jwt_secret(Path.cwd()), f"./{DATA_DIR}/{SECRETS_FILE}"
    if secret is None:
        raise ConfigError(
            [
                "JWT_SECRET_KEY: required (the secret Ghostfolio signs its JWTs with); for a local try, run this "
                f"in the folder where `ghostfolio-plaid demo` runs: it signs with the demo's {where}"
            ]
        )
    print(f"JWT_SECRET_KEY is not set: signing with the demo's secret from {where}", file=sys.stderr)
    return secret


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="ghostfolio-plaid", description=DESCRIPTION)
    commands = root.add_subparsers(dest="command", required=True)
    serve_cmd = commands.add_parser("serve", help="run the API with uvicorn")
    serve_cmd.add_argument("--host", default="127.0.0.1")
    serve_cmd.add_argument("--port", type=int, default=8000)
    serve_cmd.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    serve_cmd.set_defaults(run=serve)
    demo_cmd = commands.add_parser("demo", help="everything in one process on SQLite, no PostgreSQL/Redis/Plaid")
    demo_cmd.add_argument("--host", default="127.0.0.1")
    demo_cmd.add_argument("--port", type=int, default=8000)
    demo_cmd.set_defaults(run=demo)
    worker_cmd = commands.add_parser("worker", help="run an RQ worker for sync jobs")
    worker_cmd.add_argument("--burst", action="store_true", help="exit when the queue is empty")
    worker_cmd.add_argument(
        "--max-jobs-per-horse",
        type=positive_int,
        default=500,
        metavar="N",
        help="jobs one work horse runs before a fresh one replaces it (1: a new horse per job)",
    )
    worker_cmd.add_argument(
        "--max-horse-mib",
        type=positive_int,
        default=512,
        metavar="M",
        help="a work horse whose resident memory exceeds this after a job is replaced",
    )
    worker_cmd.set_defaults(run=worker)
    commands.add_parser("scheduler", help="enqueue the daily sync of every active item (rq cron)").set_defaults(
        run=scheduler
    )
    commands.add_parser("migrate", help="create the database if needed and apply migrations").set_defaults(run=migrate)
    emulator_cmd = commands.add_parser("emulator", help="serve the local Plaid emulator")
    emulator_cmd.add_argument("--host", default="127.0.0.1")
    emulator_cmd.add_argument("--port", type=int, default=8001)
    emulator_cmd.set_defaults(run=emulator)
    sync_cmd = commands.add_parser("sync", help="sync one item (our id or Plaid's item_id); prints the job id")
    sync_cmd.add_argument("item", metavar="ITEM_ID")
    how = sync_cmd.add_mutually_exclusive_group()
    how.add_argument("--wait", action="store_true", help="queue it and show progress until a worker finishes it")
    how.add_argument("--inline", action="store_true", help="run it in this process (queue nothing), showing progress")
    sync_cmd.set_defaults(run=sync)
    push_cmd = commands.add_parser(
        "push", help="replay one item (our id or Plaid's item_id) into Ghostfolio, idempotently; for repairs"
    )
    push_cmd.add_argument("item", metavar="ITEM_ID")
    push_cmd.set_defaults(run=push)
    commands.add_parser(
        "rotate-keys", help="re-encrypt every access token with the first PLAID_ENCRYPTION_KEY (resumable)"
    ).set_defaults(run=rotate_keys)
    export_cmd = commands.add_parser("export-schema", help="write the GraphQL schema (SDL) to a file")
    export_cmd.add_argument("--output", default="schema.graphql")
    export_cmd.set_defaults(run=export_schema)
    token_cmd = commands.add_parser(
        "token", help="print a signed development JWT for USER_ID (JWT_SECRET_KEY, or the demo's in this folder)"
    )
    token_cmd.add_argument("user_id", metavar="USER_ID")
    token_cmd.set_defaults(run=token)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    configure_logging(level=logging.WARNING, log_format="text")  # until the command has read its settings
    try:
        args.run(args)
    except (ConfigError, StoreUnreachable) as exc:
        print(f"ghostfolio-plaid: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
