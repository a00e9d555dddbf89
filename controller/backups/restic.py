"""A restic repository reached through a `backup-repository` connection.

Every restic command runs with the repository and its password in the environment only
(`RESTIC_REPOSITORY`, `RESTIC_PASSWORD`, the S3 keys), never on a command line. An `sftp:`
repository gets its private key as a 0600 file in a private temporary folder, and its host keys
pinned the same way, for the lifetime of the `Repository` (`with Repository(conn) as repo:`).

A snapshot is only ever made from a stream (`backup_stream`): if the source fails before its end,
restic is killed before it sees end-of-input, so no snapshot of a half-read source is written.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import IO, Any

from controller.contract import ConnectionCheck, ConnectionInfo

RESTIC = "restic"
CHUNK = 1 << 20
# restic's exit code when `cat config` finds no repository at the location
NO_REPOSITORY = 10


class ResticError(RuntimeError):
    """A restic command failed; the message is restic's own last lines (it never holds the password)."""


class Repository:
    def __init__(self, conn: ConnectionInfo) -> None:
        self.conn = conn
        self.location = str(conn.config.get("repository") or "")
        self._tmp: str | None = None
        self._env: dict[str, str] | None = None

    def __enter__(self) -> Repository:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    # -- environment -----------------------------------------------------------------------------
    def env(self) -> dict[str, str]:
        if self._env is None:
            if shutil.which(RESTIC) is None:
                raise ResticError("restic is not installed on the controller host (Debian: apt-get install restic)")
            secrets, config = self.conn.secrets, self.conn.config
            env = {k: v for k, v in os.environ.items() if not k.startswith(("RESTIC_", "AWS_"))}
            env.update(RESTIC_REPOSITORY=self.location, RESTIC_PASSWORD=secrets.get("password", ""),
                       RESTIC_CACHE_DIR=str(Path(self._private()) / "cache"), RESTIC_PROGRESS_FPS="0.016")
            if "s3_access_key_id" in secrets:
                env["AWS_ACCESS_KEY_ID"] = secrets["s3_access_key_id"]
                env["AWS_SECRET_ACCESS_KEY"] = secrets.get("s3_secret_access_key", "")
            if config.get("s3_region"):
                env["AWS_DEFAULT_REGION"] = str(config["s3_region"])
            self._env = env
        return self._env

    def _private(self) -> str:
        if self._tmp is None:
            self._tmp = tempfile.mkdtemp(prefix="jarvis-restic-")
        return self._tmp

    def _options(self) -> list[str]:
        """`-o sftp.command=...` for an sftp repository: ssh with the connection's key and host keys."""
        if not self.location.startswith("sftp:"):
            return []
        ssh = ["ssh", "-o", "BatchMode=yes", "-o", "ServerAliveInterval=15", "-o", "ConnectTimeout=20"]
        key = self.conn.secrets.get("ssh_private_key")
        if key:
            path = Path(self._private()) / "id"
            path.write_text(key if key.endswith("\n") else key + "\n")
            path.chmod(0o600)
            ssh += ["-i", str(path), "-o", "IdentitiesOnly=yes"]
        known = self.conn.config.get("known_hosts")
        if known:
            path = Path(self._private()) / "known_hosts"
            path.write_text(str(known).strip() + "\n")
            ssh += ["-o", f"UserKnownHostsFile={path}", "-o", "StrictHostKeyChecking=yes"]
        host, port = _sftp_host(self.location)
        if port:
            ssh += ["-p", port]
        return ["-o", "sftp.command=" + shlex.join([*ssh, host, "-s", "sftp"])]

    # -- commands --------------------------------------------------------------------------------
    def command(self, *args: str) -> list[str]:
        return [RESTIC, *self._options(), *args]

    def run(self, *args: str, timeout: float | None = None) -> str:
        proc = subprocess.run(self.command(*args), env=self.env(), capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)
        if proc.returncode != 0:
            raise ResticError(_failure(args[0], proc.returncode, proc.stderr))
        return proc.stdout

    def json(self, *args: str) -> Any:
        return json.loads(self.run(*args, "--json") or "null")

    def exists(self) -> bool:
        proc = subprocess.run(self.command("cat", "config"), env=self.env(), capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, timeout=120)
        if proc.returncode == 0:
            return True
        if proc.returncode == NO_REPOSITORY or "does not exist" in proc.stderr or "Is there a repository" in proc.stderr:
            return False
        raise ResticError(_failure("cat config", proc.returncode, proc.stderr))

    def init(self) -> None:
        self.run("init", timeout=300)

    def snapshots(self, tag: str | None = None) -> list[dict[str, Any]]:
        """Snapshots (oldest first), each with `id`, `short_id`, `time`, `paths`, `tags`."""
        return self.json("snapshots", *(("--tag", tag) if tag else ())) or []

    def snapshot(self, snapshot_id: str) -> dict[str, Any] | None:
        found = self.json("snapshots", snapshot_id) or []
        return found[0] if found else None

    def stats(self, snapshot_id: str) -> dict[str, Any]:
        """`total_size` and `total_file_count` of one snapshot, as restored."""
        return self.json("stats", "--mode", "restore-size", snapshot_id) or {}

    def forget(self, tag: str, keep: Mapping[str, int]) -> dict[str, Any]:
        """Apply retention to the snapshots tagged `tag`, then prune what no snapshot needs any more."""
        flags = [arg for name in ("last", "daily", "weekly", "monthly") if keep.get(name)
                 for arg in (f"--keep-{name}", str(int(keep[name])))]
        if not flags:
            return {"removed": 0}
        # with --prune, restic prints prune's report after the JSON document: read only the document
        out = self.run("forget", "--json", "--tag", tag, "--group-by", "tags", *flags, "--prune", timeout=3600)
        groups = json.JSONDecoder().raw_decode(out.lstrip())[0] if out.strip() else []
        return {"removed": sum(len(g.get("remove") or []) for g in groups),
                "kept": sum(len(g.get("keep") or []) for g in groups)}

    def check(self, read_data_subset: str = "") -> str:
        """`restic check` (optionally `--read-data-subset`); raises ResticError when the repository is damaged."""
        return self.run("check", *(("--read-data-subset", read_data_subset) if read_data_subset else ()),
                        timeout=6 * 3600)

    def backup_stream(self, produce: Callable[[IO[bytes]], None], filename: str, tags: Iterable[str]) -> dict[str, Any]:
        """Back up what `produce(out)` writes, as one file named `filename`; returns restic's summary.

        `produce` raises when its source fails: restic is then killed before end-of-input and no
        snapshot is written. The snapshot is looked up in the repository before this returns."""
        args = ["backup", "--json", "--stdin", "--stdin-filename", filename, "--host", "jarvis"]
        for tag in tags:
            args += ["--tag", tag]
        proc = subprocess.Popen(self.command(*args), env=self.env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        out: list[bytes] = []
        err: list[bytes] = []
        readers = [threading.Thread(target=lambda s=s, b=b: b.append(s.read()), daemon=True)
                   for s, b in ((proc.stdout, out), (proc.stderr, err))]
        for r in readers:
            r.start()
        try:
            produce(proc.stdin)
        except BaseException as exc:
            if isinstance(exc, BrokenPipeError):     # restic stopped reading: it failed, and says why
                _wait_quietly(proc, 30)
            failed = proc.poll()
            proc.kill()              # before end-of-input: restic writes no snapshot
            proc.wait()
            for r in readers:
                r.join()
            if failed:
                raise ResticError(_failure("backup", failed, b"".join(err).decode(errors="replace"))) from None
            raise
        else:
            try:
                proc.stdin.close()
            except BrokenPipeError:
                pass
            proc.wait()
        finally:
            for r in readers:
                r.join()
        if proc.returncode != 0:
            raise ResticError(_failure("backup", proc.returncode, b"".join(err).decode(errors="replace")))
        summary = next((m for m in map(_json_line, b"".join(out).splitlines()) if m.get("message_type") == "summary"),
                       None)
        if not summary or not summary.get("snapshot_id"):
            raise ResticError("restic backup finished without reporting a snapshot")
        snap = self.snapshot(summary["snapshot_id"])
        if snap is None:
            raise ResticError(f"snapshot {summary['snapshot_id'][:8]} is not in the repository after the backup")
        return {**summary, "snapshot_id": snap["id"], "time": snap["time"]}   # restic 0.14 reports a short id

    def dump(self, snapshot_id: str, filename: str, consume: Callable[[IO[bytes]], None]) -> None:
        """Stream the file `filename` of a snapshot into `consume(stream)`; raises when either fails."""
        proc = subprocess.Popen(self.command("dump", snapshot_id, "/" + filename.lstrip("/")), env=self.env(),
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        err: list[bytes] = []
        reader = threading.Thread(target=lambda: err.append(proc.stderr.read()), daemon=True)
        reader.start()
        try:
            consume(proc.stdout)
        except BaseException:
            proc.kill()
            raise
        finally:
            proc.stdout.close()
            proc.wait()
            reader.join()
        if proc.returncode != 0:
            raise ResticError(_failure("dump", proc.returncode, b"".join(err).decode(errors="replace")))


def pick_snapshot(repo: Repository, tag: str, wanted: str = "latest") -> dict[str, Any]:
    """The snapshot `wanted` (an id or "latest") among those tagged `tag`."""
    snaps = repo.snapshots(tag)
    if wanted == "latest":
        if not snaps:
            raise ResticError(f"the repository holds no snapshot tagged {tag}")
        return snaps[-1]
    for snap in snaps:
        if snap["id"].startswith(wanted) or snap.get("short_id") == wanted:
            return snap
    raise ResticError(f"no snapshot {wanted} tagged {tag} in the repository")


def copy_stream(source: IO[bytes] | Iterable[bytes], out: IO[bytes]) -> int:
    """Copy a file object or an iterable of chunks into `out`; the bytes copied."""
    total = 0
    chunks = iter(lambda: source.read(CHUNK), b"") if hasattr(source, "read") else source
    for chunk in chunks:
        out.write(chunk)
        total += len(chunk)
    return total


def check_connection(conn: ConnectionInfo) -> ConnectionCheck:
    """The connection test: `restic cat config` (with `init: true`, create a missing repository)."""
    with Repository(conn) as repo:
        try:
            if repo.exists():
                return ConnectionCheck(True, f"restic repository at {repo.location} opens with this password")
            if not conn.config.get("init"):
                return ConnectionCheck(False, f"there is no restic repository at {repo.location}; set init: true "
                                              "on the connection to create it on the next test")
            repo.init()
            return ConnectionCheck(True, f"restic repository created at {repo.location}", {"created": True})
        except ResticError as exc:
            return ConnectionCheck(False, str(exc))
        except subprocess.TimeoutExpired:
            return ConnectionCheck(False, f"restic did not answer within 120s for {repo.location}")


def _sftp_host(location: str) -> tuple[str, str]:
    """`user@host` and the port ('' for the default) of `sftp:user@host:/path` or `sftp://user@host:port//path`."""
    rest = location.removeprefix("sftp:")
    if rest.startswith("//"):
        authority = rest[2:].split("/", 1)[0]
        host, _, port = authority.rpartition(":") if authority.count(":") == 1 else (authority, "", "")
        return host, port
    return rest.split(":", 1)[0], ""


def _wait_quietly(proc: subprocess.Popen, seconds: float) -> None:
    try:
        proc.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        pass


def _json_line(line: bytes) -> dict[str, Any]:
    try:
        value = json.loads(line)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _failure(what: str, rc: int, stderr: str) -> str:
    lines = [ln for ln in stderr.strip().splitlines() if ln.strip()]
    detail = "; ".join(lines[-3:])[:600] or "no output"
    if "wrong password" in stderr:
        detail = "wrong password or no key found for this repository"
    return f"restic {what} failed (exit {rc}): {detail}"
