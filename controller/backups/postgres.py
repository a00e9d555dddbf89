"""PostgreSQL into a restic repository and back: `pg_dump -Fc` streamed into one snapshot file,
`pg_restore` streamed out of it. Run by the backup-postgres and restore-postgres runbooks.

The password arrives as PGPASSWORD in the environment (a secret input), never on a command line.
A dump that fails midway leaves no snapshot (see `Repository.backup_stream`).
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Mapping
from typing import IO, Any

from controller.backups import ops
from controller.backups.restic import Repository, ResticError, copy_stream, pick_snapshot
from controller.contract import ConnectionInfo


class PostgresError(RuntimeError):
    """pg_dump, pg_restore or createdb failed; the message is their own last lines."""


def tag(database: str) -> str:
    return f"postgres:{database}"


def _conn_args(input: Mapping[str, Any]) -> list[str]:
    return ["-w", "-h", str(input.get("host") or "127.0.0.1"), "-p", str(input.get("port") or 5432),
            "-U", str(input.get("user") or "postgres")]


def _tail(data: bytes) -> str:
    return "; ".join(ln for ln in data.decode(errors="replace").strip().splitlines()[-3:] if ln.strip())


def backup(input: dict[str, Any], conns: Mapping[str, ConnectionInfo]) -> dict[str, Any]:
    db = input["database"]
    filename = f"{db}.dump"
    with Repository(conns["repository"]) as repo:
        def produce(out: IO[bytes]) -> None:
            proc = subprocess.Popen(["pg_dump", *_conn_args(input), "-Fc", db], stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
            err: list[bytes] = []
            reader = threading.Thread(target=lambda: err.append(proc.stderr.read()), daemon=True)
            reader.start()
            try:
                copy_stream(proc.stdout, out)
            finally:
                proc.stdout.close()
                proc.wait()
                reader.join()
            if proc.returncode != 0:
                raise PostgresError(f"pg_dump of {db} failed (exit {proc.returncode}): {_tail(b''.join(err))}")

        result = repo.backup_stream(produce, filename, ["jarvis", tag(db)])
        retention = repo.forget(tag(db), ops.keep_policy(input))
        count = len(repo.snapshots(tag(db)))
    return {**ops.summary(result, tag(db), filename), "retention": retention, "snapshots": count,
            "msg": f"database {db}: snapshot {result['snapshot_id'][:8]} ({count} kept)"}


def _psql(input: Mapping[str, Any], database: str, sql: str) -> str:
    proc = subprocess.run(["psql", *_conn_args(input), "-d", database, "-XAtqc", sql], capture_output=True,
                          stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        raise PostgresError(f"psql on {database} failed: {_tail(proc.stderr)}")
    return proc.stdout.decode().strip()


def restore(input: dict[str, Any], conns: Mapping[str, ConnectionInfo]) -> dict[str, Any]:
    """Into a new database (`into`, default `<database>_restore`); over an existing one only with
    `overwrite: true`."""
    db = input["database"]
    into = input.get("into") or f"{db}_restore"
    exists = _psql(input, "postgres", f"SELECT count(*) FROM pg_database WHERE datname = '{into}'") == "1"
    if exists and not input.get("overwrite"):
        raise PostgresError(f"database {into} exists; restore into a new database, or set overwrite: true to "
                            "replace its contents")
    with Repository(conns["repository"]) as repo:
        snap = pick_snapshot(repo, tag(db), str(input.get("snapshot") or "latest"))
        if not exists:
            made = subprocess.run(["createdb", *_conn_args(input), into], capture_output=True,
                                  stdin=subprocess.DEVNULL)
            if made.returncode != 0:
                raise PostgresError(f"createdb {into} failed: {_tail(made.stderr)}")
        args = ["pg_restore", *_conn_args(input), "--no-owner", "--exit-on-error", "--single-transaction",
                *(["--clean", "--if-exists"] if exists else []), "-d", into]
        proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        err: list[bytes] = []
        reader = threading.Thread(target=lambda: err.append(proc.stderr.read()), daemon=True)
        reader.start()
        try:
            repo.dump(snap["id"], f"{db}.dump", lambda src: copy_stream(src, proc.stdin))
        except (ResticError, BrokenPipeError) as exc:
            proc.kill()
            proc.wait()
            reader.join()
            if isinstance(exc, BrokenPipeError):
                raise PostgresError(f"pg_restore into {into} failed: {_tail(b''.join(err))}") from None
            raise
        proc.stdin.close()
        proc.wait()
        reader.join()
        if proc.returncode != 0:
            raise PostgresError(f"pg_restore into {into} failed (exit {proc.returncode}): {_tail(b''.join(err))}")
    tables = tables_and_rows(input, into)
    return {"database": into, "snapshot_id": snap["id"], "snapshot_time": snap["time"], "tables": tables,
            "msg": f"snapshot {snap['id'][:8]} of {db} restored into {into}: {len(tables)} tables"}


def tables_and_rows(input: Mapping[str, Any], database: str) -> dict[str, int]:
    """Exact row counts of every user table (the check a verification records)."""
    names = _psql(input, database, "SELECT quote_ident(schemaname) || '.' || quote_ident(relname) "
                                   "FROM pg_stat_user_tables ORDER BY 1").splitlines()
    return {name: int(_psql(input, database, f"SELECT count(*) FROM {name}")) for name in names if name}


OPS = {"backup": backup, "restore": restore}

if __name__ == "__main__":
    sys.exit(ops.main(OPS, prog="controller.backups.postgres"))
