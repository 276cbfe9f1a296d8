"""Operator commands: `python -m app.cli openapi | load-demo [--if-empty] | bootstrap … | generate-reports … |
worker [--once]`."""

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
    from app.services import audit, demo, demo_scenario

    settings = get_settings()
    database = Database(settings.database_url)
    try:
        async with database.transaction() as session:
            if not await demo.database_is_empty(session):
                if if_empty:
                    print("demo data: database not empty, left as it is")
                    return
                raise SystemExit("the database is not empty; refusing to load demo data into it")
            known: dict = {}
            counts = {"organisations": 0, "users": 0}
            for name in demo.DATASETS:
                loaded = await demo.load_dataset(session, demo.read_dataset(name), known)
                counts = {k: counts[k] + loaded[k] for k in counts}
            records = await demo_scenario.run(session)
            await audit.flush_pending(session)
        print(f"demo data loaded: {counts['organisations']} organisations, {counts['users']} users, "
              f"{records['duty_lists']} duty lists, {records['lead_decisions']} lead decisions, "
              f"{records['reports']} report obligations, {records['findings']} findings, "
              f"{records['escalations']} escalations (accounts: see README)")
    finally:
        await database.dispose()


async def bootstrap(root_name: str, profile_code: str | None, username: str) -> None:
    """First start of a production database: one root organisation and its admin.

    The password comes from BOOTSTRAP_ADMIN_PASSWORD (a secret, never an argument, so it stays out
    of shell history and process lists) and must be changed at first sign-in (AUTH-5)."""
    import os

    from app.core import security
    from app.models import (
        Membership,
        Organisation,
        OrganisationClosure,
        OrganisationKind,
        OrganisationLevel,
        Role,
        User,
        new_id,
    )
    from app.profiles import get_profile
    from app.services import audit, demo

    password = os.environ.get("BOOTSTRAP_ADMIN_PASSWORD", "")
    problems = security.password_problems(password)
    if problems:
        raise SystemExit("BOOTSTRAP_ADMIN_PASSWORD: " + "; ".join(problems))
    if profile_code and get_profile(profile_code) is None:
        raise SystemExit(f"unknown profile {profile_code!r}")
    settings = get_settings()
    database = Database(settings.database_url)
    try:
        async with database.transaction() as session:
            if not await demo.database_is_empty(session):
                raise SystemExit("the database already has organisations; bootstrap is for an empty one")
            root_id = new_id()
            session.add(Organisation(id=root_id, name=root_name, kind=OrganisationKind.region,
                                     level=OrganisationLevel.province, jurisdiction_id=root_id,
                                     profile_code=profile_code))
            await session.flush()
            session.add(OrganisationClosure(ancestor_id=root_id, descendant_id=root_id, depth=0))
            user = User(username=username.lower(), display_name=username,
                        password_hash=await security.hash_password_async(password), must_change_password=True)
            session.add(user)
            await session.flush()
            session.add(Membership(user_id=user.id, organisation_id=root_id, role=Role.admin))
            audit.record(session, action="system.bootstrap", resource_type="organisation", resource_id=root_id,
                         organisation_id=root_id, after={"root": root_name, "admin": username})
            await audit.flush_pending(session)
        print(f"created {root_name!r} and admin {username!r}; the password must be changed at first sign-in")
    finally:
        await database.dispose()


async def generate_reports(year: int, jurisdiction_id: str | None) -> None:
    """Scheduled generation of report obligations (DOMAIN.md "Reports"): every province with a profile,
    or one. Idempotent, so a cron job may run it daily; the audit trail names the system as actor."""
    import uuid

    from sqlalchemy import select

    from app.models import Organisation
    from app.profiles import get_profile
    from app.services import audit
    from app.services.reports.obligations import generate_for

    database = Database(get_settings().database_url)
    try:
        async with database.transaction() as session:
            query = select(Organisation).where(Organisation.parent_id.is_(None), Organisation.is_active.is_(True),
                                               Organisation.profile_code.is_not(None))
            if jurisdiction_id:
                query = query.where(Organisation.id == uuid.UUID(jurisdiction_id))
            roots = list((await session.scalars(query.order_by(Organisation.name))).all())
            if jurisdiction_id and not roots:
                raise SystemExit(f"no active province with a profile has the id {jurisdiction_id}")
            for root in roots:
                profile = get_profile(root.profile_code or "")
                if profile is None:
                    print(f"{root.name}: unknown profile {root.profile_code!r}, skipped")
                    continue
                result = await generate_for(session, root, profile, year)
                print(f"{root.name} ({profile.code}) {year}: {result.created} created, {result.existing} existing")
            await audit.flush_pending(session)
    finally:
        await database.dispose()


async def run_worker(once: bool) -> None:
    """The background worker (feed positions, webhook deliveries, reminder sweep) until SIGTERM/SIGINT."""
    import signal

    from app.core.logging import configure_logging
    from app.worker import Worker

    settings = get_settings()
    configure_logging(settings.log_level)
    database = Database(settings.database_url, pool_size=5)
    worker = Worker(database, settings)
    try:
        if once:
            print(await worker.step())
            return
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await worker.run(stop)
    finally:
        if once:
            await worker.http.aclose()
        await database.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m app.cli")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("openapi", help="print the OpenAPI document")
    demo_parser = commands.add_parser("load-demo", help="load the Hainan demo dataset")
    demo_parser.add_argument("--if-empty", action="store_true", help="do nothing when data exists")
    boot = commands.add_parser("bootstrap", help="create the first root organisation and its admin "
                                                 "(password from BOOTSTRAP_ADMIN_PASSWORD)")
    boot.add_argument("--root-name", required=True)
    boot.add_argument("--profile", default=None)
    boot.add_argument("--admin-username", required=True)
    gen = commands.add_parser("generate-reports", help="create the report obligations of a period year "
                                                       "(idempotent; for a scheduler)")
    gen.add_argument("--year", type=int, required=True, help="the period year (2024: reports on 2024)")
    gen.add_argument("--jurisdiction-id", default=None, help="one province's root id (default: every province)")
    work = commands.add_parser("worker", help="run the background worker (webhooks, change feed, reminders)")
    work.add_argument("--once", action="store_true", help="one round, then exit (for cron or a check)")
    args = parser.parse_args(argv)
    if args.command == "openapi":
        print_openapi()
    elif args.command == "load-demo":
        asyncio.run(load_demo(args.if_empty))
    elif args.command == "bootstrap":
        asyncio.run(bootstrap(args.root_name, args.profile, args.admin_username))
    elif args.command == "generate-reports":
        asyncio.run(generate_reports(args.year, args.jurisdiction_id))
    elif args.command == "worker":
        asyncio.run(run_worker(args.once))


if __name__ == "__main__":
    main()
