"""Run a command and measure its wall time and the peak resident memory of its whole process tree
(Python and the Spark JVM together), sampled from /proc every 50 ms."""

from __future__ import annotations

import os
import statistics
import subprocess
import threading
import time
from pathlib import Path


def tree_rss_bytes(root_pid: int, processes: dict[int, tuple[int, str, int]]) -> int:
    """RSS of `root_pid` and its descendants; `processes` maps pid -> (parent pid, executable, RSS bytes).

    A JVM starts processes (Hadoop's `chmod`, for one) with vfork/posix_spawn: until the child execs, it
    runs the JVM's executable in the JVM's own address space, and /proc shows the JVM's RSS a second
    time. Such a child (a child of a JVM still running the JVM's executable) is not counted."""
    children: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in processes.items():
        children.setdefault(ppid, []).append(pid)
    total, stack = 0, [root_pid]
    while stack:
        pid = stack.pop()
        ppid, exe, rss = processes.get(pid, (0, "", 0))
        parent_exe = processes.get(ppid, (0, "", 0))[1]
        if not (pid != root_pid and exe == parent_exe and Path(exe).name == "java"):
            total += rss
        stack.extend(children.get(pid, []))
    return total


def _processes() -> dict[int, tuple[int, str, int]]:
    page = os.sysconf("SC_PAGE_SIZE")
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            pages = int((entry / "statm").read_text().split()[1])
            exe = os.readlink(entry / "exe")
        except (OSError, IndexError, ValueError):
            continue
        found[int(entry.name)] = (ppid, exe, pages * page)
    return found


def _trees_rss_bytes(root_pids: list[int]) -> int:
    processes = _processes()
    return sum(tree_rss_bytes(pid, processes) for pid in root_pids)


def run_measured(cmd: list[str], env: dict[str, str] | None = None, also: tuple[int, ...] = (), cwd: Path | None = None) -> tuple[float, float, str]:
    """(wall seconds, peak RSS in GiB, combined output) of one run; raises if the command fails. The
    peak counts the processes `also` names (and their children) too: a server the run works through."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peak = 0
    done = threading.Event()

    def sample():
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _trees_rss_bytes([proc.pid, *also]))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output, _ = proc.communicate()
    wall = time.perf_counter() - start
    done.set()
    sampler.join()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{output[-4000:]}")
    return wall, peak / 2**30, output


def median(values: list[float]) -> float:
    return statistics.median(values)
