"""Built-in runbooks run for real: gather-facts over SSH, backup and restore of PostgreSQL."""

from __future__ import annotations

import json
import socket
import subprocess
from pathlib import Path

import psycopg

from controller.jobs.catalog import load_catalog
from controller.jobs.runner import RunResult, RunSpec, run_playbook
from controller.runbooks import BUILTIN_DIR

CATALOG = load_catalog([BUILTIN_DIR])


def run_runbook(name: str, input: dict, private_dir: Path, **spec: object) -> RunResult:
    """What the worker does for a runbook job: validate, split secrets from the rest, run."""
    runbook = CATALOG.get(name)
    assert CATALOG.validate_input(name, input) == []
    extravars = {"input": runbook.public_input(input), **spec.pop("extravars", {})}
    return run_playbook(RunSpec(
        private_dir=private_dir, playbook=runbook.playbook_path, extravars=extravars,
        envvars=runbook.secret_env(input), secrets=list(runbook.secret_fields(input).values()),
        timeout=runbook.timeout, ident=name, **spec))


def _dsn(database: str) -> str:
    return f"host=127.0.0.1 port=5432 user=postgres dbname={database}"


# The test server is this machine, where root's login shell puts a pyenv shim first on PATH
# that interpreter discovery would pick; name the system python as an operator would.
SERVER_PYTHON = "/usr/bin/python3"


def test_gather_facts_over_ssh(sshd_server, private_dir: Path):
    input = {"connection": "test-ssh", "host": sshd_server.host, "port": sshd_server.port,
             "user": sshd_server.user, "python": SERVER_PYTHON}
    result = run_runbook("gather-facts", input, private_dir, ssh_key=sshd_server.private_key,
                         host_key_checking=False)

    assert result.status == "success", result.stdout
    facts = result.set_stats["facts"]
    assert facts["hostname"] == socket.gethostname().split(".")[0]
    assert facts["kernel"] and facts["os"]
    assert int(facts["cpus"]) >= 1 and int(facts["memory_mb"]) > 0
    assert int(facts["uptime_seconds"]) >= 0
    [artifact] = result.artifacts
    assert json.loads(artifact.read_text()) == facts
    # the key never stays on disk
    key_line = sshd_server.private_key.splitlines()[1].encode()
    for path in private_dir.rglob("*"):
        if path.is_file() and not path.is_symlink():
            assert key_line not in path.read_bytes(), path


def test_gather_facts_with_a_key_the_server_does_not_know(sshd_server, private_dir: Path, tmp_path: Path):
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "other")], check=True)
    input = {"connection": "test-ssh", "host": sshd_server.host, "port": sshd_server.port,
             "user": sshd_server.user}
    result = run_runbook("gather-facts", input, private_dir, ssh_key=(tmp_path / "other").read_text(),
                         host_key_checking=False)

    assert result.status == "error"
    assert [f["host"] for f in result.failures] == ["target"]
    assert "unreachable" in result.failures[0]["message"]


def test_backup_and_restore_postgres(pg_database: str, private_dir: Path, tmp_path: Path):
    backups = tmp_path / "backups"
    with psycopg.connect(_dsn(pg_database), autocommit=True) as conn:
        conn.execute("CREATE TABLE orders (id int PRIMARY KEY, item text)")
        conn.execute("INSERT INTO orders SELECT g, 'item ' || g FROM generate_series(1, 50) g")

    backup = run_runbook("backup-postgres", {"database": pg_database, "password": "not-needed-pw"},
                         private_dir / "backup", extravars={"jarvis_backups_dir": str(backups)})

    assert backup.status == "success", backup.stdout
    dump = Path(backup.set_stats["file"])
    assert dump.parent == backups / pg_database and dump.name.startswith(f"{pg_database}-")
    assert dump.suffix == ".dump" and dump.stat().st_size == int(backup.set_stats["size"]) > 0
    assert int(backup.set_stats["kept"]) == 1
    assert [a.name for a in backup.artifacts] == [dump.name]
    assert "not-needed-pw" not in backup.stdout

    with psycopg.connect(_dsn(pg_database), autocommit=True) as conn:
        conn.execute("DELETE FROM orders WHERE id > 10")
        conn.execute("CREATE TABLE scratch (x int)")

    restore = run_runbook("restore-postgres", {"database": pg_database, "backup": "latest"},
                          private_dir / "restore", extravars={"jarvis_backups_dir": str(backups)})

    assert restore.status == "success", restore.stdout
    assert restore.set_stats["file"] == str(dump)
    with psycopg.connect(_dsn(pg_database)) as conn:
        assert conn.execute("SELECT count(*), max(item) FROM orders").fetchone() == (50, "item 9")


def test_restore_into_a_new_database_by_file_name(pg_database: str, private_dir: Path, tmp_path: Path):
    backups = tmp_path / "backups"
    with psycopg.connect(_dsn(pg_database), autocommit=True) as conn:
        conn.execute("CREATE TABLE t (v text)")
        conn.execute("INSERT INTO t VALUES ('kept')")
    backup = run_runbook("backup-postgres", {"database": pg_database}, private_dir / "b",
                         extravars={"jarvis_backups_dir": str(backups)})
    assert backup.status == "success", backup.stdout
    with psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{pg_database}" WITH (FORCE)')

    restore = run_runbook("restore-postgres", {"database": pg_database, "create": True,
                                               "backup": Path(backup.set_stats["file"]).name},
                          private_dir / "r", extravars={"jarvis_backups_dir": str(backups)})

    assert restore.status == "success", restore.stdout
    with psycopg.connect(_dsn(pg_database)) as conn:
        assert conn.execute("SELECT v FROM t").fetchall() == [("kept",)]


def test_restore_of_a_missing_backup_fails_clearly(pg_database: str, private_dir: Path, tmp_path: Path):
    result = run_runbook("restore-postgres", {"database": pg_database, "backup": "latest"},
                         private_dir, extravars={"jarvis_backups_dir": str(tmp_path / "empty")})

    assert result.status == "error"
    assert result.failures[0]["message"].startswith(f"no backup latest of {pg_database}")


def test_backup_retention_keeps_the_newest(pg_database: str, private_dir: Path, tmp_path: Path):
    backups = tmp_path / "backups"
    files = []
    for n in range(4):
        result = run_runbook("backup-postgres", {"database": pg_database, "keep": 2}, private_dir / str(n),
                             extravars={"jarvis_backups_dir": str(backups)})
        assert result.status == "success", result.stdout
        files.append(Path(result.set_stats["file"]).name)

    assert sorted(p.name for p in (backups / pg_database).iterdir()) == files[-2:]
    assert int(result.set_stats["kept"]) == 2


def test_backup_of_a_missing_database_fails_naming_the_task(private_dir: Path, tmp_path: Path):
    result = run_runbook("backup-postgres", {"database": "jarvis_no_such_db_x"}, private_dir,
                         extravars={"jarvis_backups_dir": str(tmp_path / "b")})

    assert result.status == "error"
    assert result.failures[0]["task"] == "Dump jarvis_no_such_db_x"
    assert "jarvis_no_such_db_x" in result.failures[0]["message"]
    assert not list((tmp_path / "b" / "jarvis_no_such_db_x").glob("*.dump"))
