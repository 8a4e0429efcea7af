"""Timing, targets and reporting: the parts of the benchmarks that know nothing of registries.

A :class:`Figure` is one measured thing, timed over several runs and reported
as median, min and max, with an optional :class:`Target` (an absolute time, or
a margin over a *floor*: another figure of the same run that is the least the
task can cost, such as unpickling a model in a fresh process).

Example:
    >>> figure = Figure("sleep", "demo", [0.2, 0.1, 0.3], target=Target(seconds=0.25))
    >>> figure.median, figure.met(None)
    (0.2, True)
"""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Target:
    """What a figure's median must not exceed: ``seconds``, ``floor`` + ``margin``, or
    ``floor`` x ``factor``.

    A ``factor`` compares CPU seconds when both figures have them (the machine is
    shared, so wall time says more about the neighbours than about the code).
    """

    seconds: float | None = None
    margin: float | None = None  # over the floor figure named in Figure.floor
    label: str = ""
    factor: float | None = None  # times the floor figure's (CPU) median
    peak_bytes: int | None = None  # and the largest peak resident memory of the runs

    def limit(self, floor: Figure | None) -> float | None:
        if self.seconds is not None:
            return self.seconds
        if self.margin is not None and floor is not None:
            return floor.median + self.margin
        if self.factor is not None and floor is not None:
            return self.factor * (floor.cpu_median or floor.median)
        return None

    def describe(self) -> str:
        memory = "" if self.peak_bytes is None else f", peak ≤ {self.peak_bytes / 1e9:g} GB"
        if self.label:
            return self.label + memory
        if self.seconds is not None:
            return f"≤ {format_seconds(self.seconds)}{memory}"
        if self.factor is not None:
            return f"cpu ≤ {self.factor:g}× floor's{memory}"
        return f"≤ floor + {format_seconds(self.margin or 0.0)}{memory}"


@dataclass
class Figure:
    """One measured thing: the wall time of each run, in seconds."""

    name: str
    group: str
    runs: list[float]  # wall-clock seconds; a Timings also brings its CPU seconds
    target: Target | None = None
    floor: str | None = None  # name of the floor figure in the same run
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    # Other limits checked with the time (e.g. page size): description -> met?
    checks: dict[str, bool] = field(default_factory=dict)
    cpu: list[float] = field(default_factory=list)  # CPU seconds (user + sys) of each run
    # Peak resident memory of each run, in bytes: the largest process of a fresh-process
    # run (itself or a child it waited for); empty for in-process figures.
    peak: list[int] = field(default_factory=list)
    # The system part of ``cpu`` (the kernel's work: files, processes), fresh processes only.
    system: list[float] = field(default_factory=list)
    # The number of versions the work grows with, for the CPU-per-version column (issue 16);
    # None for figures that cost the same at any size (show, load).
    scale: int | None = None
    unit: str = "s"  # what runs hold: seconds, or a count such as "files"
    cpu_vs_floor: bool = False  # compare with the floor on CPU, not wall time

    def __post_init__(self) -> None:
        if isinstance(self.runs, Timings):
            self.cpu = list(self.runs.cpu)
            self.peak = list(self.runs.peak)
            self.system = list(self.runs.system)
            self.runs = list(self.runs)

    @property
    def peak_max(self) -> int | None:
        return max(self.peak) if self.peak else None

    @property
    def cpu_median(self) -> float | None:
        return statistics.median(self.cpu) if self.cpu else None

    @property
    def cpu_per_version(self) -> float | None:
        """Median CPU seconds divided by :attr:`scale`."""
        cpu = self.cpu_median
        return cpu / self.scale if cpu is not None and self.scale else None

    def format(self, value: float) -> str:
        """A value of :attr:`runs` in the figure's unit: ``1.25 s`` or ``12 files``."""
        return format_seconds(value) if self.unit == "s" else f"{value:,.0f} {self.unit}"

    @property
    def median(self) -> float:
        return statistics.median(self.runs)

    @property
    def min(self) -> float:
        return min(self.runs)

    @property
    def max(self) -> float:
        return max(self.runs)

    def met(self, floor: Figure | None) -> bool | None:
        """Whether the median meets the target (and every extra check); None without one."""
        if self.target is None and not self.checks:
            return None
        ok = all(self.checks.values())
        if self.target is not None:
            limit = self.target.limit(floor)
            if limit is None:
                return None
            measured = self.cpu_median if self.target.factor is not None else None
            ok = ok and (measured if measured is not None else self.median) <= limit
            if self.target.peak_bytes is not None:
                ok = ok and self.peak_max is not None and self.peak_max <= self.target.peak_bytes
        return ok


@dataclass
class Skipped:
    """A measurement that could not run, and why (usually: the feature has not landed)."""

    name: str
    reason: str


@dataclass
class Results:
    """Every figure and skip of one benchmark run, plus where it ran."""

    figures: list[Figure] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    context: dict[str, Any] = field(default_factory=dict)

    def add(self, figure: Figure) -> Figure:
        self.figures.append(figure)
        return figure

    def skip(self, name: str, reason: str) -> None:
        self.skipped.append(Skipped(name, reason))

    def by_name(self, name: str | None) -> Figure | None:
        return next((f for f in self.figures if f.name == name), None) if name else None

    def to_json(self) -> dict[str, Any]:
        rows = []
        for figure in self.figures:
            floor = self.by_name(figure.floor)
            limit = figure.target.limit(floor) if figure.target else None
            rows.append(
                {
                    "name": figure.name,
                    "group": figure.group,
                    "median_s": round(figure.median, 4),
                    "min_s": round(figure.min, 4),
                    "max_s": round(figure.max, 4),
                    "runs_s": [round(r, 4) for r in figure.runs],
                    "cpu_median_s": (
                        round(figure.cpu_median, 4) if figure.cpu_median is not None else None
                    ),
                    "peak_rss_bytes": figure.peak_max,
                    "system_cpu_median_s": (
                        round(statistics.median(figure.system), 4) if figure.system else None
                    ),
                    "unit": figure.unit,
                    "scale_versions": figure.scale,
                    "cpu_per_version_s": (
                        round(figure.cpu_per_version, 8)
                        if figure.cpu_per_version is not None
                        else None
                    ),
                    "floor": figure.floor,
                    "vs_floor": round(figure.median / floor.median, 3) if floor else None,
                    "over_floor_s": round(figure.median - floor.median, 4) if floor else None,
                    "target": figure.target.describe() if figure.target else None,
                    "target_limit_s": round(limit, 4) if limit is not None else None,
                    "checks": figure.checks,
                    "met": figure.met(floor),
                    "note": figure.note,
                    **({"extra": figure.extra} if figure.extra else {}),
                }
            )
        return {
            "context": self.context,
            "figures": rows,
            "skipped": [{"name": s.name, "reason": s.reason} for s in self.skipped],
        }

    def write_json(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(json.dumps(self.to_json(), indent=2, ensure_ascii=False) + "\n")
        tmp.replace(path)

    def table(self) -> str:
        """The figures as a Markdown table (readable in a terminal and pasteable in a README)."""
        head = [
            "figure",
            "median",
            "min",
            "max",
            "cpu",
            "cpu/version",
            "peak",
            "runs",
            "vs floor",
            "target",
            "",
        ]
        lines = []
        for figure in self.figures:
            floor = self.by_name(figure.floor)
            vs = ""
            if floor:
                vs = _versus(figure, floor)
            target = figure.target.describe() if figure.target else ""
            if figure.checks:
                target = "; ".join([target, *figure.checks] if target else list(figure.checks))
            met = figure.met(floor)
            mark = "" if met is None else ("✓" if met else "✗")
            cpu = "" if figure.cpu_median is None else format_seconds(figure.cpu_median)
            peak = "" if figure.peak_max is None else f"{figure.peak_max / 1e6:,.0f} MB"
            per = figure.cpu_per_version
            lines.append(
                [
                    figure.name,
                    figure.format(figure.median),
                    figure.format(figure.min),
                    figure.format(figure.max),
                    cpu,
                    "" if per is None else f"{per * 1e6:,.0f} µs",
                    peak,
                    str(len(figure.runs)),
                    vs,
                    target,
                    mark,
                ]
            )
        widths = [
            max(len(h), *(len(row[i]) for row in lines)) if lines else len(h)
            for i, h in enumerate(head)
        ]
        out = [
            "| " + " | ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)) + " |",
            "|" + "|".join("-" * (w + 2) for w in widths) + "|",
        ]
        out += [
            "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |"
            for row in lines
        ]
        for skipped in self.skipped:
            out.append(f"- {skipped.name}: {skipped.reason}")
        notes = [f"- {f.name}: {f.note}" for f in self.figures if f.note]
        if notes:
            out += ["", *notes]
        return "\n".join(out)


def _versus(figure: Figure, floor: Figure) -> str:
    """``1.05× (+120 ms)``: wall medians, or CPU medians when the target is a CPU factor."""
    cpu = figure.cpu_vs_floor or (figure.target is not None and figure.target.factor is not None)
    if cpu and figure.cpu_median is not None and floor.cpu_median is not None:
        mine, theirs, unit = figure.cpu_median, floor.cpu_median, " cpu"
    else:
        mine, theirs, unit = figure.median, floor.median, ""
    delta = mine - theirs
    sign = "+" if delta >= 0 else "−"
    return f"{mine / theirs:.2f}×{unit} ({sign}{format_seconds(abs(delta))})"


def format_seconds(seconds: float) -> str:
    if seconds >= 10:
        return f"{seconds:.1f} s"
    if seconds >= 1:
        return f"{seconds:.2f} s"
    return f"{seconds * 1000:.0f} ms"


class Timings(list[float]):
    """Wall-clock seconds of each timed run, with the CPU seconds of each in ``cpu`` and,
    for fresh processes, the peak resident bytes of each in ``peak``."""

    def __init__(
        self,
        wall: list[float],
        cpu: list[float],
        peak: list[int] | None = None,
        system: list[float] | None = None,
    ) -> None:
        super().__init__(wall)
        self.cpu = cpu
        self.peak = peak or []
        self.system = system or []  # the system part of each run's CPU


def _cpu_now() -> float:
    """CPU seconds used so far by this process and its finished children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def time_calls(
    func: Callable[[], object],
    runs: int,
    *,
    warmup: int = 1,
    before: Callable[[], object] | None = None,
) -> Timings:
    """Wall and CPU time of ``runs`` calls of ``func`` after ``warmup`` untimed ones.

    ``before`` runs untimed before every call (e.g. to clear a memo), so each
    timed call does the whole work. CPU time includes git processes the call runs.
    """
    wall, cpu = [], []
    for i in range(warmup + runs):
        if before is not None:
            before()
        cpu_start, start = _cpu_now(), time.perf_counter()
        func()
        elapsed, used = time.perf_counter() - start, _cpu_now() - cpu_start
        if i >= warmup:
            wall.append(elapsed)
            cpu.append(used)
    return Timings(wall, cpu)


class ProcessFailed(RuntimeError):
    """A timed subprocess exited with an error."""


def time_process(
    argv: Sequence[str],
    runs: int,
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    warmup: int = 1,
    check_output: Callable[[str], bool] | None = None,
    before: Callable[[], object] | None = None,
) -> Timings:
    """Wall and CPU time of ``runs`` fresh processes running ``argv`` (after ``warmup``).

    Each run is started from a small launcher (see ``_LAUNCHER``) that times it and
    reports its CPU and peak memory: the process's own (``wait4``), or that of the
    largest child it waited for, whichever is larger. Raises :class:`ProcessFailed`
    with the process's stderr if it fails, so a broken feature is reported instead
    of timed.
    """
    wall, cpu, peak, system = [], [], [], []
    for i in range(warmup + runs):
        if before is not None:  # untimed, before every run (e.g. empty a cache)
            before()
        usage, stdout, stderr = _run(argv, cwd, env)
        if usage.code != 0 or (check_output and not check_output(stdout)):
            raise ProcessFailed(
                f"`{' '.join(argv)}` exited {usage.code}: {(stderr or stdout).strip()[-800:]}"
            )
        if i >= warmup:
            wall.append(usage.wall)
            cpu.append(usage.cpu)
            peak.append(usage.peak)
            system.append(usage.sys)
    return Timings(wall, cpu, peak, system)


# Runs the timed command and reports its own wall time and resource usage. A process
# started straight from this one would inherit this one's peak memory: Linux carries the
# high-water mark of the memory a process had before exec over into its ru_maxrss, and
# this process holds whole indexes after the in-process figures. From a small launcher,
# the peak is the command's own (or its largest child's: the parsing worker, git).
_LAUNCHER = """\
import json, os, sys, time
report, argv = sys.argv[1], sys.argv[2:]
start = time.perf_counter()
pid = os.posix_spawnp(argv[0], argv, os.environ)
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - start
with open(report, "w") as handle:
    json.dump({"code": os.waitstatus_to_exitcode(status), "wall": wall,
               "cpu": usage.ru_utime + usage.ru_stime, "sys": usage.ru_stime,
               "peak": usage.ru_maxrss * 1024}, handle)
"""


@dataclass(frozen=True)
class _Usage:
    code: int
    wall: float
    cpu: float
    peak: int  # bytes
    sys: float = 0.0  # the system part of cpu


def _run(
    argv: Sequence[str],
    cwd: Path | None,
    env: dict[str, str] | None,
) -> tuple[_Usage, str, str]:
    """Run ``argv`` to its end from the launcher: its usage, stdout and stderr."""
    with tempfile.TemporaryDirectory(prefix="bench-run-") as tmp:
        report = Path(tmp) / "usage.json"
        result = subprocess.run(
            [sys.executable, "-c", _LAUNCHER, str(report), *argv],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if not report.exists():  # the launcher itself failed (no such command)
            return _Usage(result.returncode or 1, 0.0, 0.0, 0), result.stdout, result.stderr
        usage = _Usage(**json.loads(report.read_text()))
    return usage, result.stdout, result.stderr


def machine_context() -> dict[str, Any]:
    """What the figures depend on: CPUs, load, Python, git."""
    git = subprocess.run(["git", "--version"], capture_output=True, text=True, check=False)
    return {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "cpus": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "git": git.stdout.strip(),
    }
