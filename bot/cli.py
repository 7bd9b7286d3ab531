"""`qmondo-bot`: run the bot, try the demo, migrate the database, manage residents and operators."""

from __future__ import annotations

import argparse
import asyncio
import logging
import secrets
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import urlsplit

from bot import migrate, qr
from bot.config import ConfigError, Settings
from bot.core import Core
from bot.models import Role
from bot.services import DomainError, linking, residents

log = logging.getLogger("qmondo")


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings = Settings.from_env()
        return args.action(settings, args)
    except (ConfigError, DomainError) as exc:
        print(f"qmondo-bot: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="qmondo-bot", description=__doc__)
    sub = root.add_subparsers(required=True, metavar="COMMAND")

    sub.add_parser("run", help="run the bot (needs QMONDO_TELEGRAM_TOKEN)").set_defaults(action=run)
    demo = sub.add_parser("demo", help="chat with the bot in this terminal, no token needed")
    demo.set_defaults(action=run_demo)

    db = sub.add_parser("db", help="database migrations").add_subparsers(required=True)
    db.add_parser("upgrade", help="apply all migrations").set_defaults(action=db_upgrade)
    down = db.add_parser("downgrade", help="revert to a revision (base: empty)")
    down.add_argument("revision")
    down.set_defaults(action=db_downgrade)

    resident = sub.add_parser("resident", help="tenant records").add_subparsers(required=True)
    add = resident.add_parser("add", help="add a tenant record")
    add.add_argument("--tenant-code", required=True)
    add.add_argument("--name", required=True)
    add.add_argument("--building")
    add.add_argument("--stair")
    add.add_argument("--unit")
    add.set_defaults(action=resident_add)

    code = sub.add_parser("linkcode", help="a single-use link code for a tenant record")
    code.add_argument("tenant_code")
    code.add_argument("--qr", type=Path, help="also write the QR code as a PNG file")
    code.set_defaults(action=linkcode)

    operator = sub.add_parser("operator", help="operator roles").add_subparsers(required=True)
    for name, role in (("add", Role.OPERATOR), ("remove", Role.RESIDENT)):
        cmd = operator.add_parser(name, help=f"{name} an operator by Telegram user id")
        cmd.add_argument("--telegram-id", type=int, required=True)
        if name == "add":
            cmd.add_argument("--admin", action="store_true")
        cmd.set_defaults(action=operator_role, role=role)
    operator.add_parser("list", help="list operators").set_defaults(action=operator_list)

    imports = sub.add_parser("import", help="the municipality's spreadsheets (CSV or XLSX)")
    kinds = imports.add_subparsers(required=True)
    for kind in ("plans", "payments"):
        cmd = kinds.add_parser(kind, help=f"import {kind}; a re-import changes nothing twice")
        cmd.add_argument("file", type=Path)
        cmd.add_argument(
            "--dry-run", action="store_true", help="check and summarise, write nothing"
        )
        cmd.set_defaults(action=import_file, kind=kind)
    export = sub.add_parser("export", help="export data as CSV").add_subparsers(required=True)
    enrollments = export.add_parser(
        "enrollments", help="course sign-ups (UTF-8 with BOM, ';' separated, for Excel)"
    )
    enrollments.add_argument("--course", type=int, help="only this course id")
    enrollments.add_argument("-o", "--output", type=Path, help="write here instead of stdout")
    enrollments.set_defaults(action=export_enrollments)
    return root


def with_core(settings: Settings, work: Callable[[Core], Awaitable[int]]) -> int:
    """Migrate, then run one piece of async work against the database."""

    async def go() -> int:
        await migrate.upgrade(settings.database_url)
        core = Core.create(settings)
        try:
            return await work(core)
        finally:
            await core.close()

    return asyncio.run(go())


def run(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import build

    if not settings.telegram_token:
        raise ConfigError(
            "QMONDO_TELEGRAM_TOKEN is not set (get one from @BotFather), "
            "or try `qmondo-bot demo` which needs none"
        )
    from bot import logs

    logs.setup(settings.telegram_token)
    asyncio.run(migrate.upgrade(settings.database_url))
    application = build(Core.create(settings))
    if settings.webhook_url:
        log.info("starting in webhook mode on port %s", settings.webhook_port)
        application.run_webhook(
            listen=settings.webhook_listen,
            port=settings.webhook_port,
            url_path=urlsplit(settings.webhook_url).path.lstrip("/"),
            webhook_url=settings.webhook_url,
            secret_token=settings.webhook_secret or secrets.token_urlsafe(32),
        )
    else:
        log.info("starting in polling mode")
        application.run_polling()  # stops cleanly on SIGINT and SIGTERM
    return 0


def run_demo(settings: Settings, args: argparse.Namespace) -> int:
    from bot.demo import main as demo_main

    return asyncio.run(demo_main(sys.stdin, sys.stdout))


def db_upgrade(settings: Settings, args: argparse.Namespace) -> int:
    asyncio.run(migrate.upgrade(settings.database_url))
    print("database is up to date")
    return 0


def db_downgrade(settings: Settings, args: argparse.Namespace) -> int:
    asyncio.run(migrate.downgrade(settings.database_url, args.revision))
    print(f"database downgraded to {args.revision}")
    return 0


def resident_add(settings: Settings, args: argparse.Namespace) -> int:
    async def work(core: Core) -> int:
        resident = await residents.add_record(
            core, args.tenant_code, args.name, args.building, args.stair, args.unit
        )
        print(f"added tenant record {resident.tenant_code}")
        return 0

    return with_core(settings, work)


def linkcode(settings: Settings, args: argparse.Namespace) -> int:
    async def work(core: Core) -> int:
        issued = await linking.issue(core, args.tenant_code)
        until = issued.expires_at.astimezone(settings.tz)
        print(f"code: {issued.display}  (valid until {until:%d/%m/%Y %H:%M} {settings.timezone})")
        username = settings.bot_username or await bot_username(settings)
        if username:
            link = qr.deep_link(username, issued.code)
            print(f"link: {link}")
            if args.qr:
                args.qr.write_bytes(qr.png(link))
                print(f"QR code written to {args.qr}")
        elif args.qr:
            print("no QR code: set QMONDO_BOT_USERNAME (or a token) to know the bot's link")
        return 0

    return with_core(settings, work)


async def bot_username(settings: Settings) -> str | None:
    if not settings.telegram_token:
        return None
    from telegram import Bot

    async with Bot(settings.telegram_token, base_url=settings.bot_api_url) as bot:
        return bot.username


def operator_role(settings: Settings, args: argparse.Namespace) -> int:
    role = Role.ADMIN if getattr(args, "admin", False) else args.role

    async def work(core: Core) -> int:
        await residents.set_role(core, args.telegram_id, role)
        print(f"telegram user {args.telegram_id} is now {role.value}")
        return 0

    return with_core(settings, work)


def operator_list(settings: Settings, args: argparse.Namespace) -> int:
    async def work(core: Core) -> int:
        for resident in await residents.operators(core):
            print(f"{resident.telegram_user_id}\t{resident.role.value}\t{resident.name}")
        return 0

    return with_core(settings, work)


def import_file(settings: Settings, args: argparse.Namespace) -> int:
    from bot.services import plan_import

    content = args.file.read_bytes()

    async def work(core: Core) -> int:
        summary = await plan_import.run(
            core, args.file.name, content, kind=args.kind, apply=not args.dry_run
        )
        if summary.errors:
            print(f"{args.file}: not imported, {len(summary.errors)} errors:", file=sys.stderr)
            for error in summary.errors:
                print(f"  {error.english()}", file=sys.stderr)
            return 1
        print(
            plan_import.describe(summary) + (" (dry run: nothing written)" if args.dry_run else "")
        )
        return 0

    return with_core(settings, work)


def export_enrollments(settings: Settings, args: argparse.Namespace) -> int:
    from bot.services import training_notices

    async def work(core: Core) -> int:
        data = await training_notices.export_csv_on_server(core, args.course)
        if args.output:
            args.output.write_bytes(data)
            print(f"written to {args.output}", file=sys.stderr)
        else:
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
        return 0

    return with_core(settings, work)


if __name__ == "__main__":
    sys.exit(main())
