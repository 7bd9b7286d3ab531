"""The command line, the terminal demo and polling mode, as an operator would use them."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from bot import demo
from bot.cli import main
from bot.core import Core
from bot.fakeapi import FakeBotAPI
from bot.services import events, plans
from tests.support import Harness, eventually, read, staff

ENV_KEEP = ("PATH", "HOME", "LANG", "SYSTEMROOT")


def cli(*args: str, cwd: Path, stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k in ENV_KEEP} | env
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=cwd, input=stdin, capture_output=True, text=True, timeout=120, env=clean,
    )


def test_run_without_a_token_says_so_in_one_line(tmp_path: Path):
    result = cli("run", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "QMONDO_TELEGRAM_TOKEN" in result.stderr
    assert "Traceback" not in result.stderr


def test_tenant_records_codes_and_operators_from_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("QMONDO_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    monkeypatch.setenv("QMONDO_BOT_USERNAME", "qmondo_demo_bot")
    assert main(["resident", "add", "--tenant-code", "a101", "--name", "Amina Haddad",
                 "--building", "A"]) == 0
    assert main(["resident", "add", "--tenant-code", "A101", "--name", "Someone"]) == 2
    assert "DuplicateTenant" in capsys.readouterr().err
    assert main(["linkcode", "A101", "--qr", str(tmp_path / "a101.png")]) == 0
    out = capsys.readouterr().out
    assert "https://t.me/qmondo_demo_bot?start=" in out
    assert (tmp_path / "a101.png").read_bytes().startswith(b"\x89PNG")
    assert main(["linkcode", "Z999"]) == 2
    assert main(["operator", "add", "--telegram-id", "9001"]) == 0
    assert main(["operator", "list"]) == 0
    assert "9001\toperator" in capsys.readouterr().out
    assert main(["operator", "remove", "--telegram-id", "9001"]) == 0
    capsys.readouterr()
    assert main(["operator", "list"]) == 0
    assert capsys.readouterr().out == ""


def test_the_scripted_demo_speaks_arabic(tmp_path: Path, core: Core):
    # start, pick Arabic (the choices are listed default first, then by code: ar is 2nd),
    # agree, skip the code, open help from the menu.
    arabic_index = core.catalogs.locales.index("ar") + 1
    script = f"/start\n{arabic_index}\n1\n1\n5\n:quit\n"
    result = cli("demo", cwd=tmp_path, stdin=script)
    assert result.returncode == 0, result.stderr
    ar = core.catalogs.translator("ar")
    agree = read(ar._("Do you agree?"))
    assert any("\u0600" <= ch <= "\u06ff" for ch in agree), "the Arabic catalog is used"
    assert agree in result.stdout
    assert read(ar._("No problem. You can link your record later with /link.")) in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


async def test_the_demo_seeds_a_plan_in_every_state_and_an_event(core: Core):
    await demo.seed(core)
    upcoming, _ = await events.overview(core)
    assert [s.event.titles["it"] for s in upcoming] == ["Festa del cortile"]
    [schedule] = await plans.search(core, "A101", operator_id=(await staff(core)).id)
    today = plans.today(core)
    paid, partly_late, *coming = schedule.instalments
    assert paid.left_cents == 0 and paid.due_on < today
    assert 0 < partly_late.paid_cents < partly_late.amount_cents and partly_late.due_on < today
    assert len(coming) == 2 and all(i.paid_cents == 0 and i.due_on > today for i in coming)
    assert schedule.next is partly_late and len(schedule.payments) == 1


async def test_polling_mode_answers_through_get_updates(harness: Harness, fake: FakeBotAPI):
    """The path `qmondo-bot run` takes: the Updater long-polls getUpdates."""
    fake.deliver = fake.enqueue  # updates now reach the bot only through getUpdates
    await harness.app.updater.start_polling(poll_interval=0.0, timeout=1)
    user = fake.user(8101, first_name="Amina", language_code="it")
    await user.send("/start")
    await eventually(lambda: user.messages)
    assert user.buttons[0] == "Italiano"


async def test_webhook_mode_takes_updates_with_the_secret_only(
    harness: Harness, fake: FakeBotAPI
):
    """The path `qmondo-bot run` takes when QMONDO_WEBHOOK_URL is set, on loopback."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    user = fake.user(8102, first_name="Amina", language_code="it")
    updates: list[dict] = []

    async def collect(payload: dict) -> None:
        updates.append(payload)

    fake.deliver = collect
    await user.send("/start")  # builds a Telegram-shaped update without delivering it
    await harness.app.updater.start_webhook(
        listen="127.0.0.1", port=port, url_path="hook",
        webhook_url="https://bot.qmondo.test/hook", secret_token="s3cret",
    )
    assert fake.webhook_url == "https://bot.qmondo.test/hook"
    async with httpx.AsyncClient() as client:
        url = f"http://127.0.0.1:{port}/hook"
        refused = await client.post(url, json=updates[0])
        assert refused.status_code == 403  # no secret: not from Telegram
        accepted = await client.post(
            url, json=updates[0], headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret"}
        )
        assert accepted.status_code == 200
    await eventually(lambda: user.messages)
    assert user.buttons[0] == "Italiano"


class LoopbackBotAPI(ThreadingHTTPServer):
    """Just enough of the Bot API over HTTP for a real `qmondo-bot run` process to start."""

    def __init__(self) -> None:
        self.methods: list[str] = []
        super().__init__(("127.0.0.1", 0), self.Handler)

    class Handler(BaseHTTPRequestHandler):
        server: LoopbackBotAPI

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            method = self.path.rsplit("/", 1)[-1]
            self.server.methods.append(method)
            result: object = True
            if method == "getMe":
                result = {"id": 1000, "is_bot": True, "first_name": "QMondo",
                          "username": "qmondo_demo_bot"}
            elif method == "getUpdates":
                time.sleep(0.2)
                result = []
            body = json.dumps({"ok": True, "result": result}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass


def test_run_migrates_polls_and_stops_cleanly_on_sigterm(tmp_path: Path):
    api = LoopbackBotAPI()
    threading.Thread(target=api.serve_forever, daemon=True).start()
    token = "424242:RUN-TOKEN-never-logged"
    env = {k: v for k, v in os.environ.items() if k in ENV_KEEP} | {
        "QMONDO_TELEGRAM_TOKEN": token,
        "QMONDO_BOT_API_URL": f"http://127.0.0.1:{api.server_address[1]}/bot",
        "QMONDO_DATABASE_URL": f"sqlite:///{tmp_path / 'run.sqlite3'}",
        "QMONDO_OPERATOR_IDS": "9001",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "run"], cwd=tmp_path, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while "getUpdates" not in api.methods and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "getUpdates" in api.methods, "the bot never started polling"
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    finally:
        process.kill()
        api.shutdown()
    assert process.returncode == 0
    assert "polling" in err
    assert token not in out + err
    assert {"getMe", "setMyCommands"} <= set(api.methods)
    with sqlite3.connect(tmp_path / "run.sqlite3") as db:
        operator = db.execute("SELECT role FROM residents WHERE telegram_user_id = 9001").fetchone()
    assert operator == ("operator",)
