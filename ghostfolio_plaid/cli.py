"""``ghostfolio-plaid``: one entry point for the API, the worker, migrations, the emulator and dev tokens."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from ghostfolio_plaid.config import Settings
from ghostfolio_plaid.errors import ConfigError
from ghostfolio_plaid.logs import configure_logging


def serve(args: argparse.Namespace) -> None:
    import uvicorn

    from ghostfolio_plaid.app import create_app

    settings = Settings.from_env()
    configure_logging(settings.secret_values())
    if settings.auto_migrate:
        from ghostfolio_plaid.migrate import apply_migrations

        asyncio.run(apply_migrations(settings.database_url))
    if args.workers > 1:
        uvicorn.run(
            "ghostfolio_plaid.app:create_app_from_env",
            factory=True,
            workers=args.workers,
            host=args.host,
            port=args.port,
            log_config=None,
            access_log=False,
        )
        return
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_config=None, access_log=False)


def demo(args: argparse.Namespace) -> None:
    from ghostfolio_plaid.demo import run_demo

    run_demo(args.host, args.port)


def worker(args: argparse.Namespace) -> None:
    from ghostfolio_plaid.workers.runner import run_worker

    settings = Settings.from_env(require_jwt=False)
    configure_logging(settings.secret_values())
    run_worker(settings, burst=args.burst)


def scheduler(args: argparse.Namespace) -> None:
    from ghostfolio_plaid.redis_connections import sync_redis
    from ghostfolio_plaid.workers.schedule import build_cron

    settings = Settings.from_env(require_jwt=False)
    build_cron(settings, sync_redis(settings.redis_url)).start()


def migrate(args: argparse.Namespace) -> None:
    from ghostfolio_plaid.migrate import apply_migrations

    asyncio.run(apply_migrations(Settings.from_env(require_jwt=False).database_url))


def emulator(args: argparse.Namespace) -> None:
    from ghostfolio_plaid.plaid_emulator import EmulatorConfig
    from ghostfolio_plaid.plaid_emulator import serve as serve_emulator

    settings = Settings.from_env(require_jwt=False)
    config = EmulatorConfig()
    if settings.plaid_client_id and settings.plaid_secret:
        config = EmulatorConfig(client_id=settings.plaid_client_id, secret=settings.plaid_secret)
    serve_emulator(args.host, args.port, config)


def sync(args: argparse.Namespace) -> None:
    from ghostfolio_plaid.sync_command import run

    status = asyncio.run(run(args.item, wait=args.wait, inline=args.inline))
    if status:
        raise SystemExit(status)


def rotate_keys(args: argparse.Namespace) -> None:
    from ghostfolio_plaid.key_rotation import rotate_keys as rotate

    result = asyncio.run(rotate(Settings.from_env(require_jwt=False)))
    print(
        f"rotated {result.rotated} access tokens; {result.current} were already on the newest key; "
        f"{result.unreadable} could not be read by any configured key and were left as they are"
    )


def export_schema(args: argparse.Namespace) -> None:
    from pathlib import Path

    from ghostfolio_plaid.schema import schema

    Path(args.output).write_text(schema.as_str() + "\n")
    print(f"wrote {args.output}")


def token(args: argparse.Namespace) -> None:
    from ghostfolio_plaid.auth import issue_token

    print(issue_token(args.user_id, Settings.from_env().jwt_secret_key))


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="ghostfolio-plaid", description=__doc__)
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
    sync_cmd.add_argument("--wait", action="store_true", help="show progress until a worker finishes it")
    sync_cmd.add_argument("--inline", action="store_true", help="run it in this process, showing progress")
    sync_cmd.set_defaults(run=sync)
    commands.add_parser(
        "rotate-keys", help="re-encrypt every access token with the first PLAID_ENCRYPTION_KEY (resumable)"
    ).set_defaults(run=rotate_keys)
    export_cmd = commands.add_parser("export-schema", help="write the GraphQL schema (SDL) to a file")
    export_cmd.add_argument("--output", default="schema.graphql")
    export_cmd.set_defaults(run=export_schema)
    token_cmd = commands.add_parser("token", help="print a signed development JWT for USER_ID")
    token_cmd.add_argument("user_id", metavar="USER_ID")
    token_cmd.set_defaults(run=token)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    configure_logging()
    try:
        args.run(args)
    except ConfigError as exc:
        print(f"ghostfolio-plaid: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
