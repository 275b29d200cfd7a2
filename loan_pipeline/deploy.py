"""The docker-compose deployment's Dagster files (dagster.yaml, workspace.yaml), read as data.

The tests check these files against what the code needs, and run the same instance configuration
outside Docker: `local_instance_config` swaps only the run launcher, so a test exercises the
committed storage, coordinator and monitoring settings rather than a hand-kept copy.
"""

from __future__ import annotations

import copy
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from loan_pipeline import settings as settings_module
from loan_pipeline.settings import PROJECT_ROOT, Settings

DAGSTER_YAML = PROJECT_ROOT / "dagster.yaml"
WORKSPACE_YAML = PROJECT_ROOT / "docker" / "workspace.yaml"
COMPOSE_YAML = PROJECT_ROOT / "docker-compose.yaml"

# Postgres connection of the Dagster instance; dagster.yaml reads each from the environment.
POSTGRES_ENV_VARS = (
    "DAGSTER_POSTGRES_HOST",
    "DAGSTER_POSTGRES_PORT",
    "DAGSTER_POSTGRES_USER",
    "DAGSTER_POSTGRES_PASSWORD",
    "DAGSTER_POSTGRES_DB",
)

DEFAULT_RUN_LAUNCHER = {"module": "dagster", "class": "DefaultRunLauncher"}


def load_yaml(path: Path) -> dict[str, Any]:
    with open(path) as f:
        return yaml.safe_load(f) or {}


def pipeline_env_vars() -> list[str]:
    """Every environment variable loan_pipeline.settings reads (its ENV_* constants)."""
    return sorted(v for k, v in vars(settings_module).items() if k.startswith("ENV_") and isinstance(v, str))


def local_instance_config(config: dict[str, Any] | None = None) -> dict[str, Any]:
    """The deployment's instance config with runs launched as local subprocesses instead of containers."""
    local = copy.deepcopy(config if config is not None else load_yaml(DAGSTER_YAML))
    local["run_launcher"] = dict(DEFAULT_RUN_LAUNCHER)
    return local


def write_dagster_home(dagster_home: Path, config: dict[str, Any]) -> Path:
    dagster_home.mkdir(parents=True, exist_ok=True)
    path = dagster_home / "dagster.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def grpc_workspace(host: str, port: int, workspace: dict[str, Any] | None = None) -> dict[str, Any]:
    """The committed workspace with its gRPC server moved to host:port (location name kept)."""
    ws = copy.deepcopy(workspace if workspace is not None else load_yaml(WORKSPACE_YAML))
    servers = [entry["grpc_server"] for entry in ws["load_from"] if "grpc_server" in entry]
    if len(servers) != 1:
        raise ValueError(f"expected exactly one grpc_server in the workspace, found {len(servers)}")
    servers[0].update(host=host, port=port)
    return ws


def parse_volume(spec: str) -> tuple[str, PurePosixPath, bool]:
    """'source:/target[:ro]' -> (source, target, read_only)."""
    parts = spec.split(":")
    if len(parts) not in (2, 3):
        raise ValueError(f"volume spec must be source:target[:mode], got {spec!r}")
    read_only = len(parts) == 3 and "ro" in parts[2].split(",")
    return parts[0], PurePosixPath(parts[1]), read_only


def launcher_volumes(config: dict[str, Any]) -> list[tuple[str, PurePosixPath, bool]]:
    kwargs = config["run_launcher"].get("config", {}).get("container_kwargs", {})
    return [parse_volume(v) for v in kwargs.get("volumes", [])]


def mount_for(path: Path | PurePosixPath, volumes: list[tuple[str, PurePosixPath, bool]]):
    """The (source, target, read_only) mount holding `path`, the deepest one if nested; None if none."""
    p = PurePosixPath(str(path))
    holding = [v for v in volumes if p == v[1] or v[1] in p.parents]
    return max(holding, key=lambda v: len(v[1].parts), default=None)


def written_paths(settings: Settings) -> list[Path]:
    """Folders the pipeline writes: lake, model store, reports."""
    return [settings.datamart, settings.model_store, settings.reports]


def read_paths(settings: Settings) -> list[Path]:
    """Folders the pipeline reads raw data from."""
    return [settings.data_dir, settings.cc_data_dir]
