"""Real components for the deployment tests: a throwaway Postgres database, Dagster processes
started and stopped like an operator would, and polling with clear failure messages."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, TypeVar

import psycopg2

from loan_pipeline.settings import PROJECT_ROOT

VENV_BIN = PROJECT_ROOT / ".venv" / "bin"
T = TypeVar("T")

# The test Postgres server (PostgreSQL on loopback with trust auth on the dev/CI machines).
PG_HOST = os.environ.get("LOAN_PIPELINE_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("LOAN_PIPELINE_TEST_PG_PORT", "5432"))
PG_USER = os.environ.get("LOAN_PIPELINE_TEST_PG_USER", "postgres")
PG_PASSWORD = os.environ.get("LOAN_PIPELINE_TEST_PG_PASSWORD", "")


def bin_path(name: str) -> str:
    path = VENV_BIN / name
    return str(path) if path.exists() else name


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@dataclass(frozen=True)
class PostgresDatabase:
    name: str

    @property
    def dagster_env(self) -> dict[str, str]:
        """The DAGSTER_POSTGRES_* variables dagster.yaml reads, pointing at this database."""
        return {
            "DAGSTER_POSTGRES_HOST": PG_HOST,
            "DAGSTER_POSTGRES_PORT": str(PG_PORT),
            "DAGSTER_POSTGRES_USER": PG_USER,
            "DAGSTER_POSTGRES_PASSWORD": PG_PASSWORD,
            "DAGSTER_POSTGRES_DB": self.name,
        }

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        with contextlib.closing(_connect(self.name)) as conn, conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()


def _connect(dbname: str):
    return psycopg2.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, password=PG_PASSWORD, dbname=dbname, connect_timeout=10)


@contextlib.contextmanager
def temporary_postgres_database() -> Iterator[PostgresDatabase]:
    """A fresh, empty database dropped afterwards (even if a process still holds a connection)."""
    name = f"loan_pipeline_test_{secrets.token_hex(4)}"
    admin = _connect("postgres")
    admin.autocommit = True  # CREATE/DROP DATABASE cannot run inside a transaction
    try:
        with admin.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
        yield PostgresDatabase(name)
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_env(**overrides: str) -> dict[str, str]:
    """This process's environment without any Dagster/pipeline setting leaking in, plus overrides."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DAGSTER_", "LOAN_PIPELINE_"))}
    env["SPARK_LOCAL_IP"] = "127.0.0.1"
    env.update(overrides)
    return env


def wait_until(
    check: Callable[[], T | None], timeout: float, what: str, interval: float = 1.0, details: Callable[[], str] | None = None
) -> T:
    """Poll `check` until it returns a truthy value; exceptions count as 'not yet'.

    AssertionErrors (e.g. "process exited") fail at once; `details()` is appended to a failure message."""
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    while time.monotonic() < deadline:
        try:
            value = check()
            if value:
                return value
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{details() if details else ''}") from exc
        except Exception as exc:  # noqa: BLE001 - any other failure while polling just means not ready
            last_error = exc
        time.sleep(interval)
    message = f"timed out after {timeout:.0f}s waiting for {what}" + (f" (last error: {last_error!r})" if last_error else "")
    raise AssertionError(message + (f"\n{details()}" if details else ""))


@dataclass
class ManagedProcess:
    """A long-running process we started, with its output in a log file for failure messages."""

    name: str
    argv: list[str]
    log_path: Path
    proc: subprocess.Popen = field(repr=False)

    @classmethod
    def start(cls, name: str, argv: list[str], env: dict[str, str], cwd: Path, log_dir: Path) -> "ManagedProcess":
        log_dir.mkdir(parents=True, exist_ok=True)
        log_path = log_dir / f"{name}.log"
        log = open(log_path, "wb")
        # Own session: a hung child tree can be killed by its group id without touching anything else.
        # SIGINT back to its default: a suite started as a shell's background job (`./dev test &`)
        # ignores SIGINT, children inherit that, and Dagster handles SIGTERM as SIGINT, so its processes
        # would ignore SIGTERM too.
        proc = subprocess.Popen(
            argv, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True, preexec_fn=_default_sigint,
        )
        log.close()
        return cls(name, argv, log_path, proc)

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def assert_running(self) -> None:
        code = self.proc.poll()
        assert code is None, f"{self.name} exited early with code {code}; log tail:\n{self.log_tail()}"

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM, wait; returns the exit code. Kills the process group only if SIGTERM is ignored."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
                raise AssertionError(f"{self.name} ignored SIGTERM for {timeout:.0f}s and was killed; log tail:\n{self.log_tail()}")
        return self.proc.returncode


def http_get(url: str, timeout: float = 10) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        return resp.read()


def graphql(url: str, query: str, variables: dict[str, Any] | None = None, timeout: float = 60) -> dict[str, Any]:
    """POST a GraphQL document; fails on transport or GraphQL errors, returns `data`."""
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            payload = json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        raise AssertionError(f"GraphQL HTTP {exc.code}: {exc.read()[:2000]!r}") from exc
    assert not payload.get("errors"), f"GraphQL errors: {payload['errors']}"
    return payload["data"]
