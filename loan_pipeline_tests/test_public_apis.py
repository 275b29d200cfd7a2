"""The project uses public APIs and stock components only: no private module, attribute or framework
internal anywhere in the package or its benchmarks, no Java source, no process-exit tricks."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from loan_pipeline.settings import PROJECT_ROOT

SCANNED = [PROJECT_ROOT / "loan_pipeline", PROJECT_ROOT / "benchmarks"]
# Names of a module, class or object that start with one underscore are private to their owner.
PRIVATE = re.compile(r"^_[^_]|^_$")
# A framework's private module named in a string (e.g. a class path in an instance's configuration).
PRIVATE_MODULE_TEXT = re.compile(r"\b(dagster|dagster_[a-z]+|pyspark|py4j)\._")
BANNED_CALLS = {("gc", "freeze"), ("os", "fork"), ("os", "setsid")}


def violations(source: str, name: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        where = f"{name}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.ImportFrom) and node.module and node.module != "__future__":
            private = [p for p in node.module.split(".") if PRIVATE.match(p)] + [a.name for a in node.names if PRIVATE.match(a.name)]
            if private:
                found.append(f"{where}: from {node.module} import {', '.join(a.name for a in node.names)}")
        elif isinstance(node, ast.Import):
            found += [f"{where}: import {a.name}" for a in node.names if any(PRIVATE.match(p) for p in a.name.split("."))]
        elif isinstance(node, ast.Attribute) and PRIVATE.match(node.attr):
            if not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")):
                found.append(f"{where}: .{node.attr}")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and PRIVATE_MODULE_TEXT.search(node.value):
            found.append(f"{where}: {node.value!r}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name):
            if (node.func.value.id, node.func.attr) in BANNED_CALLS:
                found.append(f"{where}: {node.func.value.id}.{node.func.attr}()")
    return found


def test_the_scanner_finds_each_kind_of_violation():
    bad = """
from dagster._core.events import DagsterEventType
import pyspark.sql.connect._x
from pyspark.sql import SparkSession
SparkSession._instantiatedSession
result._replace(asset_key=None)
self._fine = cls._fine_too
config = {"module": "dagster._core.launcher"}
import gc; gc.freeze()
"""
    found = violations(bad, "bad.py")
    assert sorted(f.split(": ", 1)[1] for f in found) == sorted([
        "from dagster._core.events import DagsterEventType", "import pyspark.sql.connect._x", "._instantiatedSession",
        "._replace", "'dagster._core.launcher'", "gc.freeze()",
    ])


def test_package_and_benchmarks_use_public_apis_only():
    found = []
    for root in SCANNED:
        for path in sorted(root.rglob("*.py")):
            found += violations(path.read_text(), str(path.relative_to(PROJECT_ROOT)))
    assert not found, "private APIs used:\n" + "\n".join(found)


def test_no_java_source_and_yaml_names_public_classes_only():
    assert not [p for p in PROJECT_ROOT.rglob("*.java") if ".venv" not in p.parts]
    for path in [PROJECT_ROOT / "dagster.yaml", *PROJECT_ROOT.glob("docker/*.yaml"), PROJECT_ROOT / "docker-compose.yaml"]:
        assert not PRIVATE_MODULE_TEXT.search(path.read_text()), path
