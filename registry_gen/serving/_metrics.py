"""Prometheus metrics in the text exposition format, kept in the process that serves.

Each worker process has its own counters (scrape each pod, or run one worker
per container, as Kubernetes deployments usually do).
"""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass, field

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@dataclass
class _Histogram:
    counts: list[int] = field(default_factory=lambda: [0] * len(BUCKETS))
    total: int = 0
    sum: float = 0.0

    def observe(self, value: float) -> None:
        for i, bound in enumerate(BUCKETS):
            if value <= bound:
                self.counts[i] += 1
                break
        self.total += 1
        self.sum += value


class Metrics:
    """Requests, latency, errors, the served version and the swaps."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: dict[tuple[str, str, int], int] = defaultdict(int)
        self.latency: dict[str, _Histogram] = defaultdict(_Histogram)
        self.errors: dict[tuple[str, str], int] = defaultdict(int)
        self.swaps = 0
        self.swap_failures = 0
        self.model: tuple[str, int, str] | None = None  # name, version, md5

    def observe(self, endpoint: str, method: str, status: int, seconds: float) -> None:
        with self._lock:
            self.requests[(endpoint, method, status)] += 1
            self.latency[endpoint].observe(seconds)

    def error(self, endpoint: str, code: str) -> None:
        with self._lock:
            self.errors[(endpoint, code)] += 1

    def render(self) -> str:
        """Every metric in Prometheus' text format."""
        with self._lock:
            lines = _counter(
                "registry_gen_requests_total",
                "HTTP requests by endpoint and status",
                {
                    (("endpoint", e), ("method", m), ("status", str(s))): v
                    for (e, m, s), v in sorted(self.requests.items())
                },
            )
            lines += _counter(
                "registry_gen_request_errors_total",
                "Refused or failed requests by endpoint and error code",
                {(("endpoint", e), ("code", c)): v for (e, c), v in sorted(self.errors.items())},
            )
            lines += _histograms(self.latency)
            lines += _counter(
                "registry_gen_model_swaps_total", "Versions swapped in", {(): self.swaps}
            )
            lines += _counter(
                "registry_gen_model_swap_failures_total",
                "Newly resolved versions not swapped in (load or smoke test failed)",
                {(): self.swap_failures},
            )
            if self.model is not None:
                name, version, md5 = self.model
                lines += [
                    "# HELP registry_gen_model_version The version being served",
                    "# TYPE registry_gen_model_version gauge",
                    f'registry_gen_model_version{{model="{_escape(name)}",md5="{md5}"}} {version}',
                ]
        return "\n".join(lines) + "\n"


def _labels(pairs: tuple[tuple[str, str], ...]) -> str:
    if not pairs:
        return ""
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in pairs) + "}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _counter(
    name: str, help_text: str, samples: dict[tuple[tuple[str, str], ...], int]
) -> list[str]:
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} counter"]
    lines += [f"{name}{_labels(labels)} {value}" for labels, value in samples.items()]
    return lines


def _histograms(latency: dict[str, _Histogram]) -> list[str]:
    name = "registry_gen_request_duration_seconds"
    lines = [
        f"# HELP {name} Time from request to response, by endpoint",
        f"# TYPE {name} histogram",
    ]
    for endpoint, histogram in sorted(latency.items()):
        label = f'endpoint="{_escape(endpoint)}"'
        running = 0
        for bound, count in zip(BUCKETS, histogram.counts, strict=True):
            running += count
            lines.append(f'{name}_bucket{{{label},le="{bound}"}} {running}')
        lines.append(f'{name}_bucket{{{label},le="+Inf"}} {histogram.total}')
        lines.append(f"{name}_sum{{{label}}} {histogram.sum}")
        lines.append(f"{name}_count{{{label}}} {histogram.total}")
    return lines
