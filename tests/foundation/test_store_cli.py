"""Migrations on both databases, and the jarvis command."""

from __future__ import annotations

import os
import subprocess
import sys

from sqlalchemy import inspect

from controller.store.db import Database
from controller.store.migrate import current, upgrade
from tests.support import pg

TABLES = {"users", "refresh_tokens", "connections", "audit_log"}


def test_migrations_run_on_sqlite_and_postgresql(tmp_path):
    name = pg.create_database("jarvis_mig")
    try:
        for url in (f"sqlite:///{tmp_path}/m.db", pg.sqlalchemy_url(name)):
            upgrade(url)
            assert current(url) is not None
            db = Database(url)
            assert TABLES <= set(inspect(db.engine).get_table_names())
            db.dispose()
    finally:
        pg.drop_database(name)


def jarvis(*args, env=None, stdin=None):
    return subprocess.run([sys.executable, "-m", "api.cli", *args], capture_output=True, text=True,
                          input=stdin, env={**os.environ, **(env or {})}, timeout=120)


def test_help_on_every_command():
    for args in ([], ["serve"], ["worker"], ["db", "upgrade"], ["user", "add"], ["keys", "rotate"], ["settings"]):
        r = jarvis(*args, "--help")
        assert r.returncode == 0 and "usage:" in r.stdout, args


def test_user_add_from_stdin_and_keys_rotate(tmp_path):
    env = {"JARVIS_DATA_DIR": str(tmp_path)}
    r = jarvis("user", "add", "--email", "Ops@Example.test", "--role", "operator", "--password-stdin",
               env=env, stdin="a-long-password-1\n")
    assert r.returncode == 0, r.stderr
    assert "ops@example.test" in r.stdout
    r = jarvis("user", "add", "--email", "ops@example.test", "--role", "operator", "--password-stdin",
               env=env, stdin="a-long-password-1\n")
    assert r.returncode == 1 and "already exists" in r.stderr
    r = jarvis("keys", "rotate", env=env)
    assert r.returncode == 0 and "new key" in r.stdout
    assert oct((tmp_path / "keyring.json").stat().st_mode & 0o777) == "0o600"


def test_deployment_without_secret_key_refuses_to_start(tmp_path):
    r = jarvis("user", "add", "--email", "a@b.c", "--role", "admin", "--password-stdin",
               env={"JARVIS_DATA_DIR": str(tmp_path), "JARVIS_EMBEDDED": "false"}, stdin="x" * 12 + "\n")
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("jarvis: cannot start:") and "secret key" in lines[0]


def test_first_start_creates_key_and_admin_once(tmp_path):
    from controller.runtime import Runtime
    from tests.conftest import make_settings

    s = make_settings(tmp_path, f"sqlite:///{tmp_path}/j.db", secret_key="")   # generate it, as on a first start
    rt = Runtime.start(s)
    assert oct(s.key_file.stat().st_mode & 0o777) == "0o600"
    assert rt.ensure_first_admin() is None   # already there: not created nor printed again
    rt.close()


def test_user_add_without_a_terminal_says_how_to_give_the_password(tmp_path):
    r = subprocess.run([sys.executable, "-m", "api.cli", "user", "add", "--email", "a@b.c", "--role", "admin"],
                       capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120, start_new_session=True,
                       env={**os.environ, "JARVIS_DATA_DIR": str(tmp_path)})
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert lines == ["jarvis: no terminal to ask for the password: pipe it in with --password-stdin"], r.stderr
