"""Operator commands: `python -m app.cli openapi | load-demo [--if-empty]`."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from app.core.config import get_settings
from app.core.db import Database


def print_openapi() -> None:
    from app.main import create_app

    schema = create_app().openapi()
    sys.stdout.write(json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=False) + "\n")


async def load_demo(if_empty: bool) -> None:
    from app.services import audit, demo

    settings = get_settings()
    database = Database(settings.database_url)
    try:
        async with database.transaction() as session:
            if not await demo.database_is_empty(session):
                if if_empty:
                    print("demo data: database not empty, left as it is")
                    return
                raise SystemExit("the database is not empty; refusing to load demo data into it")
            counts = await demo.load_dataset(session, demo.read_dataset())
            await audit.flush_pending(session)
        print(f"demo data loaded: {counts['organisations']} organisations, {counts['users']} users "
              "(accounts: see README)")
    finally:
        await database.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m app.cli")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("openapi", help="print the OpenAPI document")
    demo_parser = commands.add_parser("load-demo", help="load the Hainan demo dataset")
    demo_parser.add_argument("--if-empty", action="store_true", help="do nothing when data exists")
    args = parser.parse_args(argv)
    if args.command == "openapi":
        print_openapi()
    elif args.command == "load-demo":
        asyncio.run(load_demo(args.if_empty))


if __name__ == "__main__":
    main()
