"""Real git repositories for tests: make and commit with pygit2, serve over HTTP with git's own
`git http-backend` (the smart HTTP protocol, the same one GitHub speaks), optionally behind
HTTP basic auth so a bad token is refused by a real server."""

from __future__ import annotations

import base64
import getpass
import hmac
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, urlsplit

import pygit2

DEFAULT_AUTHOR = ("Test Author", "author@example.com")


def make_repo(path: Path | str, branch: str = "main") -> Path:
    """A new non-bare repository whose HEAD points at `branch` (still unborn)."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    pygit2.init_repository(str(path), bare=False, initial_head=branch)
    return path


def commit(
    repo_path: Path | str,
    files: dict[str, str | bytes | None],
    message: str = "change",
    author: tuple[str, str] = DEFAULT_AUTHOR,
    branch: str | None = None,
    parents: list[str] | None = None,
) -> str:
    """Commit `files` (path -> content; None deletes the path) on top of `branch` (default: the
    branch HEAD points at) and move that branch. `parents` overrides the parent list, so a test
    can rewrite history the way a force push does. Returns the new commit's sha."""
    repo = pygit2.Repository(str(repo_path))
    ref_name = f"refs/heads/{branch}" if branch else repo.lookup_reference("HEAD").target
    if parents is None:
        try:
            parents = [str(repo.lookup_reference(ref_name).target)]
        except KeyError:
            parents = []
    # Build the tree in an in-memory index seeded from the first parent, so committing to a
    # branch other than the checked-out one never touches the working tree.
    index = pygit2.Index()
    if parents:
        index.read_tree(repo[parents[0]].peel(pygit2.Tree))
    for name, content in files.items():
        if content is None:
            index.remove(name)
            continue
        data = content.encode() if isinstance(content, str) else content
        index.add(pygit2.IndexEntry(name, repo.create_blob(data), pygit2.enums.FileMode.BLOB))
    tree = index.write_tree(repo)
    signature = pygit2.Signature(*author)
    oid = repo.create_commit(None, signature, signature, message, tree, parents)
    repo.references.create(ref_name, oid, force=True)
    return str(oid)


def delete_branch(repo_path: Path | str, branch: str) -> None:
    pygit2.Repository(str(repo_path)).references.delete(f"refs/heads/{branch}")


class _GitHandler(BaseHTTPRequestHandler):
    # HTTP/1.1 with a chunked response body: the CGI output is streamed without knowing its
    # length (libgit2 does not accept a body that ends only when the connection closes).
    protocol_version = "HTTP/1.1"
    server: GitHttpServer._Server

    def do_GET(self) -> None:
        self._cgi()

    def do_POST(self) -> None:
        self._cgi()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        pass  # keep test output quiet

    def _authorised_user(self) -> str | None:
        """The basic-auth user when the password equals the server's token, else None."""
        header = self.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return None
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return None
        return user if hmac.compare_digest(password, self.server.token or "") else None

    def _cgi(self) -> None:
        self.server.requests.append((self.command, self.path))
        user = ""
        if self.server.token is not None:
            user = self._authorised_user()
            if user is None:
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="git"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
        parts = urlsplit(self.path)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GIT_PROJECT_ROOT": str(self.server.root),
            "GIT_HTTP_EXPORT_ALL": "1",
            "GATEWAY_INTERFACE": "CGI/1.1",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REQUEST_METHOD": self.command,
            "PATH_INFO": parts.path,
            "QUERY_STRING": parts.query,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "REMOTE_USER": user,
            "REMOTE_ADDR": self.client_address[0],
        }
        # Pass request headers the CGI way (Git-Protocol, Content-Encoding: gzip, ...).
        for key, value in self.headers.items():
            env["HTTP_" + key.upper().replace("-", "_")] = value
        chunked = "chunked" in self.headers.get("Transfer-Encoding", "").lower()
        length = self.headers.get("Content-Length")
        if length is not None and not chunked:
            env["CONTENT_LENGTH"] = length
        proc = subprocess.Popen(
            [self.server.backend], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        # Feed the body from another thread so a backend that answers while still reading
        # can never deadlock against us.
        feeder = threading.Thread(target=self._feed_body, args=(proc, chunked, length), daemon=True)
        feeder.start()
        assert proc.stdout is not None
        status, headers = self._read_cgi_headers(proc.stdout)
        self.send_response(status)
        for key, value in headers:
            self.send_header(key, value)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        while block := proc.stdout.read1(65536):
            self.wfile.write(b"%x\r\n%s\r\n" % (len(block), block))
        self.wfile.write(b"0\r\n\r\n")
        feeder.join()
        proc.wait()

    def _feed_body(self, proc: subprocess.Popen[bytes], chunked: bool, length: str | None) -> None:
        assert proc.stdin is not None
        try:
            if chunked:
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        self.rfile.readline()  # the blank line after the last chunk
                        break
                    proc.stdin.write(self.rfile.read(size))
                    self.rfile.readline()  # CRLF after each chunk
            elif length:
                remaining = int(length)
                while remaining > 0:
                    block = self.rfile.read(min(remaining, 65536))
                    if not block:
                        break
                    proc.stdin.write(block)
                    remaining -= len(block)
        except BrokenPipeError:
            pass
        finally:
            try:
                proc.stdin.close()
            except BrokenPipeError:
                pass

    @staticmethod
    def _read_cgi_headers(stream) -> tuple[int, list[tuple[str, str]]]:
        status, headers = 200, []
        while True:
            line = stream.readline()
            if not line or line in (b"\r\n", b"\n"):
                break
            key, _, value = line.decode("latin-1").rstrip("\r\n").partition(":")
            value = value.strip()
            if key.lower() == "status":
                status = int(value.split()[0])
            else:
                headers.append((key, value))
        return status, headers


class GitHttpServer:
    """Serves every repository under `root` at http://127.0.0.1:<port>/<name>.

    With `token`, every request needs HTTP basic auth whose password is that token (any user
    name, as GitHub accepts `x-access-token`). Use as a context manager."""

    class _Server(ThreadingHTTPServer):
        daemon_threads = True
        root: Path
        token: str | None
        backend: str
        requests: list[tuple[str, str]]

        def handle_error(self, request, client_address) -> None:
            # a client that hangs up early (a refused fetch) is normal here, not worth a traceback
            if not isinstance(sys.exc_info()[1], ConnectionError):
                super().handle_error(request, client_address)

    def __init__(self, root: Path | str, token: str | None = None) -> None:
        self.root = Path(root)
        self.token = token
        exec_path = subprocess.run(["git", "--exec-path"], check=True, capture_output=True, text=True)
        self._server = self._Server(("127.0.0.1", 0), _GitHandler)
        self._server.root = self.root
        self._server.token = token
        self._server.backend = str(Path(exec_path.stdout.strip()) / "git-http-backend")
        self._server.requests = []
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def requests(self) -> list[tuple[str, str]]:
        """(method, path) of every request received, for tests that check a fetch happened."""
        return self._server.requests

    def url_for(self, repo_name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{quote(repo_name)}"

    def start(self) -> GitHttpServer:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def __enter__(self) -> GitHttpServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SshGitServer:
    """A real OpenSSH server on 127.0.0.1 (random port) with a fresh host key, letting in the
    current user with one generated key pair, so git over ssh:// runs exactly as against GitHub.

    `private_key` is the client key text (OpenSSH format); `url_for(path)` names a repository by
    its absolute path. Needs Debian's openssh-server (`/usr/sbin/sshd`)."""

    SSHD = "/usr/sbin/sshd"

    def __init__(self, workdir: Path | str, key_type: str = "ed25519") -> None:
        self.dir = Path(workdir)
        self.key_type = key_type
        self.user = getpass.getuser()
        self.port = _free_port()
        self._proc: subprocess.Popen[bytes] | None = None
        self.private_key = ""

    def _keygen(self, path: Path, key_type: str, *extra: str) -> None:
        subprocess.run(["ssh-keygen", "-q", "-t", key_type, "-N", "", "-f", str(path), *extra], check=True)

    def start(self) -> SshGitServer:
        if not Path(self.SSHD).exists():
            raise RuntimeError(f"{self.SSHD} is missing: apt-get install openssh-server")
        self.dir.mkdir(parents=True, exist_ok=True)
        self._keygen(self.dir / "host_key", "ed25519")
        self._keygen(self.dir / "client_key", self.key_type, *(["-m", "PEM"] if self.key_type == "rsa" else []))
        self.private_key = (self.dir / "client_key").read_text()
        shutil.copy(self.dir / "client_key.pub", self.dir / "authorized_keys")
        config = self.dir / "sshd_config"
        config.write_text("\n".join([
            f"Port {self.port}", "ListenAddress 127.0.0.1", f"HostKey {self.dir / 'host_key'}",
            f"PidFile {self.dir / 'sshd.pid'}", f"AuthorizedKeysFile {self.dir / 'authorized_keys'}",
            "StrictModes no", "UsePAM no", "PasswordAuthentication no", "KbdInteractiveAuthentication no",
            "PermitRootLogin prohibit-password", "PubkeyAuthentication yes", "LogLevel ERROR", "",
        ]))
        Path("/run/sshd").mkdir(parents=True, exist_ok=True)  # sshd's privilege-separation dir
        self._proc = subprocess.Popen([self.SSHD, "-D", "-e", "-f", str(config)], stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            if self._proc.poll() is not None:
                raise RuntimeError(f"sshd exited with {self._proc.returncode}")
            time.sleep(0.05)
        raise RuntimeError("sshd did not start listening")

    def url_for(self, repo_path: Path | str) -> str:
        return f"ssh://{self.user}@127.0.0.1:{self.port}{Path(repo_path).resolve()}"

    def stop(self) -> None:
        if self._proc:
            self._proc.terminate()
            self._proc.wait(timeout=5)
            self._proc = None

    def __enter__(self) -> SshGitServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
