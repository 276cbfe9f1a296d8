"""Build a throwaway PostgreSQL benchmark database from a seed.

    python -m bench.generate --db envduty_bench_small --scale small --seed 42   # province scale
    python -m bench.generate --db envduty_bench --scale large --seed 42         # nation scale
    python -m bench.generate --db envduty_bench --drop                          # just drop it

The database is dropped and created, migrated with `alembic upgrade head` (the app's own
schema, nothing added), then filled with binary COPY (asyncpg `copy_records_to_table`),
vacuumed and analysed. Ids are UUIDv7 built from the row's created_at and the seeded
generator, and the shared password hash uses a seeded salt: one seed, identical rows.

Audit events are not generated: the hash chain must stay valid, and the service writes
its own events (each bench sign-in adds one).

Extension points: each table family is one `Step` in `STEPS`. Later issues add theirs
with the issue's nation-scale sizes: findings 1,000,000; reports 50,000 (put the size on
`Scale`, write rows with `copy_in`, link them to the organisations of `ctx.forest` and the
users of `ctx.accounts`). Duty lists are here: every department of every province has a
published list, 6,452 responsibility items per province (200,012 at nation scale), each led
by its department with one cooperating department of the same province.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

import asyncpg
from alembic import command
from alembic.config import Config
from argon2 import DEFAULT_RANDOM_SALT_LENGTH, PasswordHasher
from argon2.low_level import hash_secret

from bench.common import BENCH_PASSWORD, OUT_DIR, ROOT, asyncpg_dsn, database_url, server_url, summary_path
from bench.finding_rows import load_findings
from bench.orgforest import EPOCH, ORG_COLUMNS, ForestBuilder, build_forest, person_name, uuid7_at
from bench.reports import load_reports


@dataclass(frozen=True)
class Scale:
    name: str
    provinces: int
    users: int  # user_account rows (and about as many memberships): the biggest table until findings exist
    items_per_province: int = 6_452  # responsibility items; x31 = 200,012 at nation scale (issue 4)
    reports: int = 50_000  # the nation's reports; a dataset holds its provinces' shares (bench/reports.py)
    findings: int = 1_000_000  # the nation's findings (issue 6), shared out the same way (bench/finding_rows.py)


SCALES = {
    "small": Scale("small", provinces=1, users=10_000),  # province scale: 1 province, the 10k-row class
    "large": Scale("large", provinces=31, users=1_000_000),  # nation scale: ~3,100 organisations, 1M rows
}
USER_COLUMNS = ("id", "username", "display_name", "email", "phone", "password_hash", "is_active", "token_version",
                "must_change_password", "last_login_at", "version", "created_at", "updated_at")
MEMBERSHIP_COLUMNS = ("id", "user_id", "organisation_id", "role", "created_at", "updated_at")
DUTY_LIST_COLUMNS = ("id", "organisation_id", "jurisdiction_id", "region_id", "version_no", "status", "version",
                     "title", "profile_code", "profile_version", "published_on", "published_at", "portal_url",
                     "created_at", "updated_at")
ITEM_COLUMNS = ("id", "duty_list_id", "organisation_id", "jurisdiction_id", "lineage_id", "position", "code", "title",
                "description", "domain", "basis", "decomposition", "complaint_channels", "version", "created_at",
                "updated_at")
ITEM_ORG_COLUMNS = ("item_id", "organisation_id", "relation", "position")
DOMAINS = ("water", "air", "soil", "solid_waste", "marine", "ecology", "climate", "nature_reserves", "rural")
DUTY_VERBS = ("监督管理", "组织实施", "指导协调", "统筹推进", "牵头开展", "配合做好")
DUTY_OBJECTS = ("入河排污口排查整治", "大气污染联防联控", "土壤污染风险管控", "固体废物综合利用", "近岸海域污染防治",
                "自然保护地监管", "温室气体排放控制", "农业面源污染治理", "饮用水水源地保护", "河湖岸线管理")
CHUNK = 50_000
# The role a bulk user holds, by the kind of organisation it sits in.
ROLE_BY_KIND = {"coordination_office": ("office",), "party_committee": ("leadership",),
                "government": ("leadership", "staff"), "discipline_body": ("discipline",),
                "coordination_body": ("inspector",), "national_body": ("staff", "inspector")}
DEFAULT_ROLES = ("staff",) * 7 + ("leader",) * 2 + ("viewer",)


@dataclass
class Context:
    seed: int
    scale: Scale
    forest: ForestBuilder
    accounts: dict[str, Any] = field(default_factory=dict)  # named accounts: username -> (user id, org code, role)


def password_hash(seed: int) -> str:
    """argon2id with pwdlib's default parameters (so sign-in does not rehash) and a seeded salt."""
    ph = PasswordHasher()
    salt = random.Random(f"{seed}:salt").randbytes(DEFAULT_RANDOM_SALT_LENGTH)
    return hash_secret(BENCH_PASSWORD.encode(), salt, time_cost=ph.time_cost, memory_cost=ph.memory_cost,
                       parallelism=ph.parallelism, hash_len=ph.hash_len, type=ph.type).decode()


async def copy_in(conn: asyncpg.Connection, table: str, columns: tuple[str, ...], rows: Iterable[tuple]) -> int:
    """Binary COPY in chunks, so a million rows never sit in memory at once."""
    count, chunk = 0, []
    for row in rows:
        chunk.append(row)
        if len(chunk) == CHUNK:
            await conn.copy_records_to_table(table, records=chunk, columns=columns)
            count, chunk = count + len(chunk), []
    if chunk:
        await conn.copy_records_to_table(table, records=chunk, columns=columns)
        count += len(chunk)
    return count


# ------------------------------------------------------------------------------ steps


async def load_organisations(conn: asyncpg.Connection, ctx: Context) -> dict[str, int]:
    forest = ctx.forest
    return {
        "organisation": await copy_in(conn, "organisation", ORG_COLUMNS, (o.record() for o in forest.orgs)),
        "organisation_closure": await copy_in(conn, "organisation_closure",
                                              ("ancestor_id", "descendant_id", "depth"), forest.closure_records()),
        "coordination_member": await copy_in(conn, "coordination_member", ("body_id", "member_id"), forest.members),
    }


def _named_accounts(ctx: Context) -> list[tuple[str, str, str, str]]:
    """(username, display name, organisation code, role): the accounts the driver signs in as."""
    named = [("bench.cn.admin", "国家管理员", "cn", "admin")]
    for number in range(1, ctx.scale.provinces + 1):
        p = f"p{number:02d}"
        named += [(f"bench.{p}.admin", f"{p} 管理员", p, "admin"),
                  (f"bench.{p}.env.leader", f"{p} 生态环境厅负责人", f"{p}.gov.env", "leader"),
                  (f"bench.{p}.env.staff", f"{p} 生态环境厅工作人员", f"{p}.gov.env", "staff")]
    return named


def _user_rows(ctx: Context, hashed: str) -> Iterator[tuple[tuple, tuple]]:
    """(user row, membership row) pairs: named accounts first, then bulk users spread uniformly over
    every organisation, so a province admin's scope holds 1/31 of them at nation scale."""
    rng = random.Random(f"{ctx.seed}:users")
    orgs = ctx.forest.orgs
    clock = EPOCH + timedelta(days=40)
    named = _named_accounts(ctx)
    for i in range(ctx.scale.users):
        clock += timedelta(seconds=30, milliseconds=rng.randrange(1000))
        user_id = uuid7_at(clock, rng)
        if i < len(named):
            username, display, code, role = named[i]
            org = ctx.forest.by_code[code]
            ctx.accounts[username] = {"id": str(user_id), "organisation": code, "role": role}
        else:
            username, display, org = f"u{i:07d}", person_name(rng), rng.choice(orgs)
            role = rng.choice(ROLE_BY_KIND.get(org.kind, DEFAULT_ROLES))
        email = f"{username}@bench.gov.cn" if rng.random() < 0.6 else None
        phone = f"0898-{rng.randrange(10_000_000, 99_999_999)}" if rng.random() < 0.3 else None
        yield ((user_id, username, display, email, phone, hashed, True, 0, False, None, 1, clock, clock),
               (uuid7_at(clock, rng), user_id, org.id, role, clock, clock))


async def load_users(conn: asyncpg.Connection, ctx: Context) -> dict[str, int]:
    if ctx.scale.users < len(_named_accounts(ctx)):
        raise SystemExit("--users is smaller than the number of named bench accounts")
    hashed = password_hash(ctx.seed)
    users = memberships = 0
    pairs = _user_rows(ctx, hashed)
    while True:
        chunk = [pair for _, pair in zip(range(CHUNK), pairs, strict=False)]
        if not chunk:
            break
        users += await copy_in(conn, "user_account", USER_COLUMNS, (u for u, _ in chunk))
        memberships += await copy_in(conn, "membership", MEMBERSHIP_COLUMNS, (m for _, m in chunk))
    return {"user_account": users, "membership": memberships}


def _duty_rows(ctx: Context) -> Iterator[tuple[str, tuple]]:
    """("list" | "item" | "org", row): one published list per department, its items and their orgs.

    Drawn per province from its own generator, so province 1 is the same at both scales."""
    basis = json.dumps([{"kind": "sanding", "title": "部门职能配置、内设机构和人员编制规定", "number": None,
                         "clause": None}], ensure_ascii=False)
    for number in range(1, ctx.scale.provinces + 1):
        p = f"p{number:02d}"
        rng = random.Random(f"{ctx.seed}:duty:{number}")
        root = ctx.forest.by_code[p]
        departments = [o for o in ctx.forest.orgs if o.kind == "department" and o.root is root]
        clock = EPOCH + timedelta(days=80, hours=number)
        lists = []
        for dept in departments:
            clock += timedelta(seconds=1)
            list_id = uuid7_at(clock, rng)
            lists.append((dept, list_id))
            yield "list", (list_id, dept.id, root.id, dept.parent.parent.id, 1, "published", 1,
                           f"{dept.name}生态环境保护具体事项清单", root.profile_code or "hainan", 1,
                           clock.date(), clock, f"https://{dept.code}.bench.gov.cn/sxqd", clock, clock)
        positions: dict[uuid.UUID, int] = {}
        for _ in range(ctx.scale.items_per_province):
            clock += timedelta(seconds=2, milliseconds=rng.randrange(1000))
            dept, list_id = rng.choice(lists)
            positions[list_id] = positions.get(list_id, 0) + 1
            item_id = uuid7_at(clock, rng)
            title = rng.choice(DUTY_VERBS) + rng.choice(DUTY_OBJECTS)
            yield "item", (item_id, list_id, dept.id, root.id, uuid7_at(clock, rng), positions[list_id],
                           str(positions[list_id]), title, None, rng.choice(DOMAINS), basis, "[]", "[]", 1, clock,
                           clock)
            yield "org", (item_id, dept.id, "lead", 0)
            partner = rng.choice(departments)
            if partner is not dept:
                yield "org", (item_id, partner.id, "cooperating", 0)


async def load_duty_lists(conn: asyncpg.Connection, ctx: Context) -> dict[str, int]:
    counts = {"duty_list": 0, "responsibility_item": 0, "responsibility_item_organisation": 0}
    tables = {"list": ("duty_list", DUTY_LIST_COLUMNS), "item": ("responsibility_item", ITEM_COLUMNS),
              "org": ("responsibility_item_organisation", ITEM_ORG_COLUMNS)}
    buffers: dict[str, list[tuple]] = {kind: [] for kind in tables}

    async def flush(kind: str) -> None:
        table, columns = tables[kind]
        counts[table] += await copy_in(conn, table, columns, buffers[kind])
        buffers[kind] = []

    for kind, row in _duty_rows(ctx):
        buffers[kind].append(row)
        if len(buffers[kind]) >= CHUNK:
            for k in ("list", "item", "org"):  # parents before children: the foreign keys hold at every COPY
                await flush(k)
    for k in ("list", "item", "org"):
        await flush(k)
    return counts


@dataclass(frozen=True)
class Step:
    name: str
    run: Callable[[asyncpg.Connection, Context], Awaitable[dict[str, int]]]


STEPS = [Step("organisations", load_organisations), Step("users", load_users), Step("duty_lists", load_duty_lists),
         Step("reports", load_reports), Step("findings", load_findings)]


# --------------------------------------------------------------------------- database


async def _server_execute(*statements: str) -> None:
    url = server_url()
    conn = await asyncpg.connect(asyncpg_dsn(url.database or "postgres"))
    try:
        for sql in statements:
            await conn.execute(sql)
    finally:
        await conn.close()


def recreate_database(name: str) -> None:
    if not name.replace("_", "").isalnum():
        raise SystemExit("database names are letters, digits and _ only")
    asyncio.run(_server_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"'))
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.attributes["database_url"] = database_url(name)
    cfg.attributes["skip_logging"] = True
    command.upgrade(cfg, "head")


async def fill(name: str, ctx: Context) -> dict[str, Any]:
    conn = await asyncpg.connect(asyncpg_dsn(name))
    timings: dict[str, float] = {}
    counts: dict[str, int] = {}
    try:
        await conn.execute("SET synchronous_commit = off")  # a throwaway database: no need to wait for fsync
        async with conn.transaction():
            for step in STEPS:
                started = time.perf_counter()
                counts.update(await step.run(conn, ctx))
                timings[step.name] = round(time.perf_counter() - started, 1)
        started = time.perf_counter()
        await conn.execute("VACUUM (ANALYZE)")  # steady state: visibility map set, statistics fresh
        timings["vacuum_analyze"] = round(time.perf_counter() - started, 1)
        size = await conn.fetchval("SELECT pg_size_pretty(pg_database_size(current_database()))")
    finally:
        await conn.close()
    return {"counts": counts, "timings_s": timings, "size": size}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default="envduty_bench", help="database to (re)create (default envduty_bench)")
    parser.add_argument("--scale", choices=sorted(SCALES), default="large")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--users", type=int, help="override the scale's user count (quick trials)")
    parser.add_argument("--findings", type=int, help="override the nation's finding count (quick trials)")
    parser.add_argument("--items", type=int, help="override responsibility items per province (export bench)")
    parser.add_argument("--drop", action="store_true", help="drop the database and stop")
    args = parser.parse_args()
    if args.drop:
        asyncio.run(_server_execute(f'DROP DATABASE IF EXISTS "{args.db}" WITH (FORCE)'))
        print(f"dropped {args.db}")
        return
    scale = SCALES[args.scale]
    if args.users:
        scale = replace(scale, users=args.users)
    if args.findings:
        scale = replace(scale, findings=args.findings)
    if args.items:
        scale = replace(scale, items_per_province=args.items)
    started = time.perf_counter()
    recreate_database(args.db)
    migrated = time.perf_counter() - started
    ctx = Context(seed=args.seed, scale=scale, forest=build_forest(args.seed, scale.provinces))
    result = asyncio.run(fill(args.db, ctx))
    result["timings_s"] = {"create_and_migrate": round(migrated, 1), **result["timings_s"],
                           "total": round(time.perf_counter() - started, 1)}
    summary = {"db": args.db, "scale": scale.name, "seed": args.seed, "provinces": scale.provinces, **result,
               "accounts": ctx.accounts,
               "organisations": {code: str(org.id) for code, org in ctx.forest.by_code.items()
                                 if code.count(".") <= 2 and code.startswith(("cn", "p01"))}}
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    summary_path(args.db).write_text(json.dumps(summary, ensure_ascii=False, indent=2))
    print(f"{args.db}: {scale.name} scale, seed {args.seed}: "
          + ", ".join(f"{t} {n:,}" for t, n in result["counts"].items())
          + f"; {result['size']}; {result['timings_s']['total']} s")


if __name__ == "__main__":
    main()
