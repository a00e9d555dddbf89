"""The one settings object: every `JARVIS_*` environment variable (and an optional `.env`).

Defaults make the embedded mode work with no configuration: SQLite in the data directory, an
in-process queue, the `examples/` repository watched from disk. README's configuration table
is generated from the field descriptions below (`jarvis settings --markdown`).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from controller.errors import ConfigurationError

REPO_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="JARVIS_", env_file=".env", extra="ignore")

    # where state lives
    data_dir: Path = Field(Path("./data"), description="Directory for the SQLite file, secret key, mirrors and job data.")
    database_url: str = Field("", description="SQLAlchemy URL; empty means SQLite in the data directory. "
                              "PostgreSQL: `postgresql+psycopg://user@host/db`.")
    redis_url: str = Field("", description="Redis URL for the job queue, live bus and rate limits; empty means in-process.")
    embedded: bool = Field(True, description="Embedded mode: generate a missing secret key and a first admin. "
                           "Set false in a deployment so a missing key refuses to start.")

    # secrets
    secret_key: str = Field("", description="Key for signing JWTs; empty means read or create `secret_key_file`.")
    secret_key_file: Path | None = Field(None, description="File holding the JWT signing key (default `<data_dir>/secret.key`, mode 0600).")
    keyring_file: Path | None = Field(None, description="File holding the credential encryption keys (default `<data_dir>/keyring.json`, mode 0600).")

    # HTTP
    host: str = Field("127.0.0.1", description="Address `jarvis serve` listens on.")
    port: int = Field(8080, description="Port `jarvis serve` listens on.")
    public_url: str = Field("", description="Base URL users reach Jarvis at (used in reset links); default http://host:port.")
    trusted_proxies: list[str] = Field(default_factory=list, description="Peers (IPs or CIDRs) whose X-Forwarded-For is believed, e.g. Traefik's.")
    max_body_bytes: int = Field(1_048_576, description="Largest request body accepted (webhooks included).")
    cors_origins: list[str] = Field(default_factory=list, description="Origins allowed by CORS (none by default).")
    shutdown_drain_seconds: float = Field(0.0, description="On SIGTERM, `jarvis serve` keeps serving this long with "
                                          "/readyz at 503, so a balancer takes it out of rotation before it stops.")

    # auth
    access_token_minutes: int = Field(15, description="Access-token (JWT) lifetime.")
    refresh_token_days: int = Field(1, description="Refresh-token lifetime without remember-me.")
    refresh_token_remember_days: int = Field(30, description="Refresh-token lifetime with remember-me.")
    jwt_issuer: str = Field("jarvis", description="`iss` claim of access tokens.")
    totp_required_roles: list[str] = Field(default_factory=list, description="Roles that must enrol TOTP (admins can also set this per role in the API).")
    reset_token_minutes: int = Field(30, description="Password-reset link lifetime.")
    first_admin_email: str = Field("admin@jarvis.local", description="Email of the admin created on first start.")

    # rate limits
    login_failures_per_minute: int = Field(5, description="Failed sign-ins in any 60 s that hold back an address (for every account) and an account (only for the addresses that failed on it); see Sign-in and sessions.")
    requests_per_minute: int = Field(600, description="General request limit per minute: per access token that verifies, else per client IP (a header that does not verify counts against its IP).")

    # mail
    smtp_host: str = Field("", description="SMTP server for password resets; empty writes the link to the log.")
    smtp_port: int = Field(25, description="SMTP port.")
    smtp_user: str = Field("", description="SMTP user (optional).")
    smtp_password: str = Field("", description="SMTP password (optional).")
    smtp_starttls: bool = Field(False, description="Use STARTTLS.")
    smtp_from: str = Field("jarvis@localhost", description="Sender address of Jarvis mail.")

    # jobs
    worker_concurrency: int = Field(2, description="Jobs one worker runs at once.")
    job_lease_seconds: int = Field(30, description="A running job's lease; a worker renews it, an expired one means the worker died.")
    sweep_interval_seconds: float = Field(5.0, description="How often pending jobs without a queue entry and expired leases are swept.")
    event_flush_count: int = Field(500, description="Job events buffered before a batched insert.")
    event_flush_ms: int = Field(100, description="Longest a job event waits before it is stored.")
    runbook_paths: list[Path] = Field(default_factory=list, description="Extra folders of runbooks, besides the built-in ones.")

    # gitops
    examples_source: bool = Field(True, description="In embedded mode, register and watch the `examples/` repository as a source.")
    default_poll_seconds: int = Field(60, description="Poll interval of a source that does not set one.")
    drift_interval_seconds: int = Field(120, description="How often live state is observed for drift without a push.")
    leader_lease_seconds: int = Field(15, description="Controller leader lease; another controller takes over after two.")
    run_controller: bool = Field(True, description="`jarvis serve` also runs the reconcile loop.")
    run_worker: bool = Field(True, description="`jarvis serve` also runs a worker (always true when embedded).")
    reconcilers: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Settings per target kind, as JSON by kind, e.g. "
        "`{\"swarm\": {\"engine_timeout\": 30}}`; each kind declares the keys it reads (reconcilers/README.md), "
        "and an unknown one is refused.")
    manifest_max_bytes: int = Field(262_144, gt=0, description="Largest manifest file parsed; a bigger one is an error at the line it crosses.")
    manifest_max_aliases: int = Field(200, ge=0, description="YAML aliases (`*name`) allowed in one manifest.")
    manifest_max_nodes: int = Field(50_000, gt=0, description="Values one manifest may hold once its aliases are expanded "
                                    "(bounds an alias bomb: a few hundred bytes that expand to gigabytes).")

    # metrics
    metrics_token: str = Field("", description="Bearer token Prometheus sends to scrape `/metrics` "
                               "(`authorization: {credentials: ...}` in its scrape config).")
    metrics_token_file: Path | None = Field(None, description="File holding the `/metrics` bearer token "
                                            "(a Docker secret); read when `metrics_token` is empty.")
    metrics_public: bool = Field(False, description="Serve `/metrics` without a token (only where nothing "
                                 "untrusted reaches the port). With neither this nor a token, `/metrics` is refused.")
    metrics_multiproc_dir: Path | None = Field(None, description="Directory the API processes of `jarvis serve "
                                               "--workers N` (N > 1) share their counters through "
                                               "(PROMETHEUS_MULTIPROC_DIR); default `<data_dir>/metrics`. Emptied at start.")

    notify_tick_seconds: float = Field(1.0, description="How often notifications owed are looked for (a new one "
                                       "made in the same process is sent at once).")
    notify_retry_base_seconds: float = Field(10.0, description="Wait before a failed notification is tried again; "
                                             "doubled at each failure, at most an hour.")
    notify_max_attempts: int = Field(8, description="Attempts at one notification before it is marked failed "
                                     "(shown under Notifications → Deliveries, and retried by hand from there).")

    log_level: str = Field("INFO", description="Log level.")
    log_json: bool = Field(True, description="One JSON object per log line.")

    @property
    def sqlalchemy_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'jarvis.db').resolve()}"

    @property
    def key_file(self) -> Path:
        return self.secret_key_file or self.data_dir / "secret.key"

    @property
    def keyring_path(self) -> Path:
        return self.keyring_file or self.data_dir / "keyring.json"

    @property
    def metrics_dir(self) -> Path:
        return self.metrics_multiproc_dir or self.data_dir / "metrics"

    @property
    def metrics_bearer(self) -> str:
        """The token `/metrics` wants, or "" when none is configured."""
        if self.metrics_token or not self.metrics_token_file:
            return self.metrics_token
        try:
            return self.metrics_token_file.read_text().strip()
        except OSError as exc:
            raise ConfigurationError(f"metrics token {self.metrics_token_file} is unreadable: {exc.strerror}") from None

    @property
    def base_url(self) -> str:
        return self.public_url or f"http://{self.host}:{self.port}"


@functools.lru_cache
def get_settings() -> Settings:
    return Settings()
