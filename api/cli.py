"""The `jarvis` command: serve, worker, controller, db upgrade, user add, keys rotate, settings,
connection-types. It sits at the top layer with the API: `jarvis serve` starts the app, and every
process is put together by `api.processes`."""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from controller import logs
from controller.errors import ConfigurationError, JarvisError
from controller.settings import Settings, get_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="jarvis", description="Jarvis: GitOps controller and DevOps control plane.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("serve", help="run the API and UI (embedded: also the worker and the controller)",
                       description="Run the API and web UI. In embedded mode (the default) the same process "
                                   "runs the worker and the reconcile loop on SQLite.")
    p.add_argument("--host", help="listen address (JARVIS_HOST)")
    p.add_argument("--port", type=int, help="listen port (JARVIS_PORT)")
    p.add_argument("--workers", type=int, default=1,
                   help="API processes (full stack only: needs JARVIS_REDIS_URL so they share the queue and bus)")
    p.set_defaults(func=_serve)

    p = sub.add_parser("worker", help="run a job worker (needs JARVIS_REDIS_URL)",
                       description="Claim jobs from the queue and run them with ansible-runner.")
    p.add_argument("--concurrency", type=int, help="jobs run at once (JARVIS_WORKER_CONCURRENCY)")
    p.set_defaults(func=_worker)

    p = sub.add_parser("controller", help="run the reconcile loop only (leader-elected)",
                       description="Run the GitOps reconcile loop; several may run, one leads.")
    p.set_defaults(func=_controller)

    p = sub.add_parser("db", help="database schema", description="Database schema commands.")
    dbsub = p.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    q = dbsub.add_parser("upgrade", help="apply migrations up to the newest", description="Apply every pending migration.")
    q.add_argument("--revision", default="head")
    q.set_defaults(func=_db_upgrade)

    p = sub.add_parser("user", help="user accounts", description="User account commands.")
    usub = p.add_subparsers(dest="user_command", required=True, metavar="ACTION")
    q = usub.add_parser("add", help="add a user", description="Add a user; the password is asked for, "
                        "or read from standard input with --password-stdin.")
    q.add_argument("--email", required=True)
    q.add_argument("--role", required=True, choices=["admin", "operator", "viewer"])
    q.add_argument("--name", default="")
    q.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    q.set_defaults(func=_user_add)

    p = sub.add_parser("keys", help="credential encryption keys", description="Credential key commands.")
    ksub = p.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    q = ksub.add_parser("rotate", help="add a new key and re-encrypt every credential",
                        description="Add a new AES-256 key, make it active, and re-encrypt every stored "
                                    "credential under it. Safe while Jarvis runs.")
    q.set_defaults(func=_keys_rotate)

    p = sub.add_parser("settings", help="print every JARVIS_* setting", description="Print the settings table.")
    p.add_argument("--markdown", action="store_true", help="as README's markdown table")
    p.set_defaults(func=_settings)

    p = sub.add_parser("connection-types", help="print what each connection type takes (README's reference)",
                       description="Print each connection type's config and credential keys, from the JSON "
                                   "Schemas it declares, as README's connection reference (markdown).")
    p.add_argument("--json", action="store_true", help="the schemas themselves, as GET /api/connection-types")
    p.set_defaults(func=_connection_types)

    args = parser.parse_args(argv)
    try:
        return args.func(args, get_settings()) or 0
    except ConfigurationError as exc:
        print(f"jarvis: cannot start: {exc.message}", file=sys.stderr)
        return 2
    except JarvisError as exc:
        print(f"jarvis: {exc.message}", file=sys.stderr)
        return 1


def _serve(args, settings: Settings) -> int:
    import uvicorn

    from api.app import create_app

    overrides = {k: v for k, v in (("host", args.host), ("port", args.port)) if v}
    settings = settings.model_copy(update=overrides)
    logs.configure(settings.log_level, settings.log_json)
    # the same logging setup (redaction included) in every process uvicorn starts, not only this one
    common = dict(host=settings.host, port=settings.port, access_log=False, proxy_headers=False,
                  log_config=logs.dict_config(settings.log_level, settings.log_json),
                  ws_max_size=1 << 20)
    if args.workers > 1:
        if not settings.redis_url:
            print("jarvis: --workers needs JARVIS_REDIS_URL (processes must share the queue and the live bus)",
                  file=sys.stderr)
            return 2
        os.environ.update({"JARVIS_HOST": settings.host, "JARVIS_PORT": str(settings.port)})
        from api.instruments import prepare_multiprocess

        prepare_multiprocess(settings.metrics_dir)   # before the processes start: they read it on import
        print(f"  Jarvis is running at {settings.base_url} with {args.workers} processes", flush=True)
        # a child answers the supervisor's health check only once Python and the app's imports are up:
        # uvicorn's 5 s kills and respawns slow starters forever on a busy host
        uvicorn.run("api.app:create_app", factory=True, workers=args.workers, timeout_worker_healthcheck=30,
                    **common)
        return 0
    from api.server import serve

    app = create_app(settings=settings)
    print(f"  Jarvis is running at {settings.base_url}  (API docs: {settings.base_url}/api/docs)", flush=True)
    serve(app, settings.shutdown_drain_seconds, **common)
    return 0


def _worker(args, settings: Settings) -> int:
    from api import processes

    logs.configure(settings.log_level, settings.log_json)
    if args.concurrency:
        settings = settings.model_copy(update={"worker_concurrency": args.concurrency})
    return processes.run_worker(settings)


def _controller(args, settings: Settings) -> int:
    from api import processes

    logs.configure(settings.log_level, settings.log_json)
    return processes.run_controller(settings)


def _db_upgrade(args, settings: Settings) -> int:
    from controller.store.db import Database
    from controller.store.migrate import upgrade_locked

    db = Database(settings.sqlalchemy_url)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    before, after = upgrade_locked(db)
    print(f"database at revision {after}" + (f" (upgraded from {before or 'empty'})" if before != after
                                              else " (already current)"))
    return 0


def _user_add(args, settings: Settings) -> int:
    from controller.accounts import users
    from controller.runtime import Runtime

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    elif not sys.stdin.isatty():
        # getpass would fall back to reading a pipe with a warning, or raise EOFError with no input at all
        print("jarvis: no terminal to ask for the password: pipe it in with --password-stdin", file=sys.stderr)
        return 2
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Repeat: ") != password:
            print("jarvis: passwords differ", file=sys.stderr)
            return 1
    rt = Runtime.start(settings, first_admin=False)
    try:
        with rt.db.session() as db:
            user = users.create(db, args.email, password, args.role, name=args.name)
            print(f"user {user.email} added with role {user.role}")
    finally:
        rt.close()
    return 0


def _keys_rotate(args, settings: Settings) -> int:
    from controller import connections
    from controller.runtime import Runtime

    rt = Runtime.start(settings, first_admin=False)
    try:
        new_id = rt.keyring.rotate()
        n, failed = connections.reencrypt_all(rt.db, rt.secrets)
        print(f"new key {new_id} active; {n} credential rows re-encrypted")
        for problem in failed:
            print(f"jarvis: {problem}", file=sys.stderr)
        if failed:
            return 1
    finally:
        rt.close()
    return 0


def _settings(args, settings: Settings) -> int:
    rows = []
    for name, field in Settings.model_fields.items():
        default = field.default if field.default_factory is None else field.default_factory()
        rows.append((f"JARVIS_{name.upper()}", repr(default) if default not in ("", [], None) else "(empty)",
                     field.description or ""))
    if args.markdown:
        print("| variable | default | meaning |\n| --- | --- | --- |")
        for r in rows:
            print(f"| `{r[0]}` | `{r[1]}` | {r[2]} |")
    else:
        for r in rows:
            print(f"{r[0]:36} {r[1]:24} {r[2]}")
    return 0



def _connection_types(args, settings: Settings) -> int:
    import json

    from api.schemas.connections import ConnectionTypePublic
    from controller import connection_types

    types = connection_types.installed()
    if args.json:
        print(json.dumps([ConnectionTypePublic.of(t).model_dump() for t in types.values()], indent=2))
    else:
        print(connection_types.reference_markdown(types), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
