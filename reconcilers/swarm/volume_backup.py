"""Docker volumes into a restic repository and back, over the job's docker connection.

A volume is read and written through a short-lived helper container that mounts it and never has
to run: the engine's archive API (`GET/PUT /containers/{id}/archive`, what `docker cp` uses) streams
the volume as a tar, which goes straight into `restic backup --stdin` (one file `<volume>.tar`),
and back from `restic dump`. The engine is the connection's (a Swarm node, or a local engine only
when the connection says unix:///var/run/docker.sock); nothing here defaults to this host's socket.

Run by the backup-volume, restore-volume and verify-backup runbooks as
`python -m reconcilers.swarm.volume_backup <op> --input JSON --connection JSON --repository JSON`.
"""

from __future__ import annotations

import hashlib
import sys
import tarfile
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import IO, Any

import docker
import docker.errors

from controller.backups import ops
from controller.backups.restic import CHUNK, Repository, ResticError, copy_stream, pick_snapshot
from controller.contract import ConnectionInfo
from reconcilers.swarm import runbook_ops
from reconcilers.swarm.engine import client_for

MOUNT = "/data"
HELPER_LABEL = "jarvis.backup-helper"


class VolumeError(RuntimeError):
    """The volume, the helper container or the engine refused; the message names which."""


def tag(volume: str) -> str:
    return f"volume:{volume}"


@contextmanager
def helper(client: docker.DockerClient, image: str, volume: str, read_only: bool) -> Iterator[Any]:
    """A created (never started) container with `volume` at /data; removed afterwards."""
    try:
        client.images.get(image)
    except docker.errors.ImageNotFound:
        try:
            client.images.pull(image)
        except docker.errors.APIError as exc:
            raise VolumeError(f"helper image {image} is not on the engine and cannot be pulled: "
                              f"{exc.explanation or exc}") from None
    container = client.containers.create(image, command=["true"], name=f"jarvis-backup-{uuid.uuid4().hex[:10]}",
                                         labels={HELPER_LABEL: volume},
                                         volumes={volume: {"bind": MOUNT, "mode": "ro" if read_only else "rw"}})
    try:
        yield container
    finally:
        try:
            container.remove(force=True)
        except docker.errors.APIError:
            pass


def _volume(client: docker.DockerClient, name: str, conn: ConnectionInfo) -> Any:
    try:
        return client.volumes.get(name)
    except docker.errors.NotFound:
        raise VolumeError(f"volume {name} does not exist on the engine of connection {conn.name!r}") from None


@contextmanager
def stopped(client: docker.DockerClient, services: Iterable[str], timeout: int) -> Iterator[dict[str, int]]:
    """Scale the services that write to a volume to 0 for the backup; back to their replicas afterwards,
    even when the backup fails. Yields each stopped service with its replicas before."""
    before: dict[str, int] = {}
    try:
        for name in services:
            spec = client.api.inspect_service(name)["Spec"]
            before[name] = int(((spec.get("Mode") or {}).get("Replicated") or {}).get("Replicas", 1))
            result = runbook_ops.scale(client, name, 0, timeout)
            if result.get("failed"):
                raise VolumeError(f"service {name} could not be stopped: {result.get('msg')}")
        yield before
    finally:
        for name, replicas in before.items():
            runbook_ops.scale(client, name, replicas, timeout)


def backup(input: dict[str, Any], conns: Mapping[str, ConnectionInfo]) -> dict[str, Any]:
    volume, conn = input["volume"], conns["connection"]
    filename = f"{volume}.tar"
    client = client_for(conn)
    try:
        _volume(client, volume, conn)
        with Repository(conns["repository"]) as repo, \
                stopped(client, input.get("stop_during_backup") or [], int(input.get("stop_timeout") or 120)) as paused, \
                helper(client, input.get("helper_image") or "busybox:stable", volume, read_only=True) as box:
            def produce(out: IO[bytes]) -> None:
                stream, _ = client.api.get_archive(box.id, MOUNT, chunk_size=CHUNK)
                copy_stream(stream, out)

            result = repo.backup_stream(produce, filename, ["jarvis", tag(volume)])
            retention = repo.forget(tag(volume), ops.keep_policy(input))
            count = len(repo.snapshots(tag(volume)))
    finally:
        client.close()
    return {**ops.summary(result, tag(volume), filename), "retention": retention, "snapshots": count,
            "stopped": dict(paused),
            "msg": f"volume {volume}: snapshot {result['snapshot_id'][:8]} ({count} kept)"}


class _Reader:
    """restic dump's stdout as a file object requests streams (chunked) into PUT /archive."""

    def __init__(self, src: IO[bytes]) -> None:
        self.src, self.bytes = src, 0

    def __iter__(self) -> Iterator[bytes]:
        for chunk in iter(lambda: self.src.read(CHUNK), b""):
            self.bytes += len(chunk)
            yield chunk


def restore(input: dict[str, Any], conns: Mapping[str, ConnectionInfo]) -> dict[str, Any]:
    """Into a new volume (`into`, default `<volume>-restore-<snapshot>`); over an existing volume only
    with `overwrite: true`, which empties it first."""
    volume, conn = input["volume"], conns["connection"]
    client = client_for(conn)
    try:
        with Repository(conns["repository"]) as repo:
            snap = pick_snapshot(repo, tag(volume), str(input.get("snapshot") or "latest"))
            into = input.get("into") or f"{volume}-restore-{snap['short_id']}"
            result = restore_into(client, repo, snap, volume, into, input)
    finally:
        client.close()
    return {**result, "msg": f"snapshot {snap['id'][:8]} of {volume} restored into volume {into}: "
                             f"{result['files']} files, {result['bytes']} bytes"}


def restore_into(client: docker.DockerClient, repo: Repository, snap: Mapping[str, Any], volume: str, into: str,
                 input: Mapping[str, Any]) -> dict[str, Any]:
    image = input.get("helper_image") or "busybox:stable"
    try:
        client.volumes.get(into)
        exists = True
    except docker.errors.NotFound:
        exists = False
    if exists and not input.get("overwrite"):
        raise VolumeError(f"volume {into} exists; restore into a new volume, or set overwrite: true to replace "
                          "its contents")
    if not exists:
        client.volumes.create(into, labels={"jarvis.restored-from": snap["id"]})
    elif input.get("overwrite"):
        # emptied first, so files deleted since the snapshot do not survive the restore
        client.containers.run(image, ["sh", "-c", f"rm -rf {MOUNT}/* {MOUNT}/.[!.]* {MOUNT}/..?*"], remove=True,
                              volumes={into: {"bind": MOUNT, "mode": "rw"}}, labels={HELPER_LABEL: into})
    with helper(client, image, into, read_only=False) as box:
        holder: dict[str, int] = {}

        def consume(src: IO[bytes]) -> None:
            reader = _Reader(src)
            if not client.api.put_archive(box.id, "/", reader):
                raise VolumeError(f"the engine refused the archive for volume {into}")
            holder["bytes"] = reader.bytes

        repo.dump(snap["id"], f"{volume}.tar", consume)
        listing = volume_listing(client, box.id)
    return {"volume": into, "snapshot_id": snap["id"], "snapshot_time": snap["time"], "files": len(listing),
            "bytes": sum(size for size, _ in listing.values()), "archive_bytes": holder.get("bytes", 0)}


def tar_listing(stream: Iterable[bytes] | IO[bytes]) -> dict[str, tuple[int, str]]:
    """Every regular file of a tar stream: name -> (size, sha256)."""
    src = stream if hasattr(stream, "read") else _IterReader(iter(stream))
    out: dict[str, tuple[int, str]] = {}
    with tarfile.open(fileobj=src, mode="r|") as tar:
        for member in tar:
            if member.isfile():
                digest = hashlib.sha256()
                f = tar.extractfile(member)
                for chunk in iter(lambda f=f: f.read(CHUNK), b""):
                    digest.update(chunk)
                out[member.name.lstrip("./")] = (member.size, digest.hexdigest())
    return out


def volume_listing(client: docker.DockerClient, container_id: str) -> dict[str, tuple[int, str]]:
    stream, _ = client.api.get_archive(container_id, MOUNT, chunk_size=CHUNK)
    return tar_listing(stream)


class _IterReader:
    def __init__(self, chunks: Iterator[bytes]) -> None:
        self.chunks, self.buf = chunks, b""

    def read(self, n: int = -1) -> bytes:
        while n < 0 or len(self.buf) < n:
            try:
                self.buf += next(self.chunks)
            except StopIteration:
                break
        if n < 0:
            data, self.buf = self.buf, b""
        else:
            data, self.buf = self.buf[:n], self.buf[n:]
        return data


def verify(input: dict[str, Any], conns: Mapping[str, ConnectionInfo]) -> dict[str, Any]:
    """Restore the snapshot into a scratch volume, compare every file (name, size, sha256) with the
    snapshot's own archive, and remove the scratch volume."""
    volume, conn = input["volume"], conns["connection"]
    client = client_for(conn)
    scratch = f"jarvis-verify-{uuid.uuid4().hex[:10]}"
    try:
        with Repository(conns["repository"]) as repo:
            snap = pick_snapshot(repo, tag(volume), str(input.get("snapshot") or "latest"))
            restored = restore_into(client, repo, snap, volume, scratch, {**input, "overwrite": False})
            holder: dict[str, Any] = {}
            repo.dump(snap["id"], f"{volume}.tar", lambda src: holder.update(listing=tar_listing(src)))
            with helper(client, input.get("helper_image") or "busybox:stable", scratch, read_only=True) as box:
                got = volume_listing(client, box.id)
    finally:
        try:
            client.volumes.get(scratch).remove(force=True)
        except docker.errors.APIError:
            pass
        client.close()
    want = holder["listing"]
    differ = sorted(n for n in set(want) | set(got) if want.get(n) != got.get(n))
    ok = not differ and restored["files"] == len(want)
    result = {"verified": ok, "snapshot_id": snap["id"], "files": len(want),
              "bytes": sum(s for s, _ in want.values()), "differences": differ[:20]}
    if not ok:
        raise ResticError(f"snapshot {snap['id'][:8]} of {volume} does not restore to its own content: "
                          f"{len(differ)} files differ ({', '.join(differ[:5])})")
    return {**result, "msg": f"snapshot {snap['id'][:8]} of {volume} restored to a scratch volume: "
                             f"{len(want)} files, sizes and checksums match"}


OPS = {"backup": backup, "restore": restore, "verify": verify}

if __name__ == "__main__":
    sys.exit(ops.main(OPS, prog="reconcilers.swarm.volume_backup"))
