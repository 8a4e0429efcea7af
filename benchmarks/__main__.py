"""``python -m benchmarks`` (``./dev bench``): build the synthetic registry and time everything.

Examples:
    ./dev bench                          # 1,000 models x 10 versions, 5 runs each
    ./dev bench --quick                  # 50 models x 4 versions, 3 runs: a smoke run
    ./dev bench --only index,validate    # just those measurements
    ./dev bench --site-sizes 10,100      # also build the site at 100 and 1,000 versions
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from .generate import RegistrySpec, ensure_registry
from .harness import Results, machine_context
from .suite import MEASURE, MEASUREMENTS, Bench

HERE = Path(__file__).resolve().parent
DEFAULT_WORK = HERE / ".work"
DEFAULT_JSON = HERE / "results" / "latest.json"
DEFAULT = RegistrySpec()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Time registry-gen on a synthetic registry with a realistic git history.",
    )
    parser.add_argument("--models", type=int, help=f"registered models (default {DEFAULT.models})")
    parser.add_argument(
        "--versions", type=int, help=f"versions per model (default {DEFAULT.versions})"
    )
    parser.add_argument("--seed", type=int, default=DEFAULT.seed, help="generator seed")
    parser.add_argument("--runs", type=int, help="timed runs per figure (default 5; at least 1)")
    parser.add_argument(
        "--warmup",
        type=int,
        default=1,
        help="untimed runs before the timed ones (default 1; 0 for a big "
        "registry, where the warm-up would double a run of minutes)",
    )
    parser.add_argument("--only", help=f"comma-separated subset of: {', '.join(MEASUREMENTS)}")
    parser.add_argument(
        "--json",
        type=Path,
        default=DEFAULT_JSON,
        help="where to write the results (default benchmarks/results/latest.json)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a small registry (50 x 4) and 3 runs: checks the harness, not speed",
    )
    parser.add_argument(
        "--site-sizes",
        default=None,
        help="model counts (x --versions) to also build the site at, for the "
        "size curve (default 10,100 at the default size)",
    )
    parser.add_argument(
        "--work",
        type=Path,
        default=DEFAULT_WORK,
        help="cache of generated registries (default benchmarks/.work)",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.models = args.models or 50
        args.versions = args.versions or 4
        args.runs = args.runs or 3
    args.models = args.models or DEFAULT.models
    args.versions = args.versions or DEFAULT.versions
    args.runs = args.runs or 5
    if min(args.models, args.versions, args.runs) < 1:
        parser.error("--models, --versions and --runs must be at least 1")
    only = [n.strip() for n in (args.only or ",".join(MEASUREMENTS)).split(",") if n.strip()]
    unknown = sorted(set(only) - set(MEASUREMENTS))
    if unknown:
        parser.error(
            f"unknown measurement {', '.join(unknown)}; choose from {', '.join(MEASUREMENTS)}"
        )
    args.only = only
    if args.site_sizes is None:
        default_size = (args.models, args.versions) == (DEFAULT.models, DEFAULT.versions)
        args.site_sizes = "10,100" if default_size else ""
    try:
        args.site_sizes = tuple(int(n) for n in args.site_sizes.split(",") if n.strip())
    except ValueError:
        parser.error("--site-sizes takes comma-separated model counts, e.g. 10,100")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    spec = RegistrySpec(models=args.models, versions=args.versions, seed=args.seed)
    work = args.work.resolve()
    started = time.perf_counter()
    log(f"registry {spec.models:,} models x {spec.versions} versions (cache: {work / spec.key})")
    registry = ensure_registry(spec, work, log=log)
    log(
        f"  ready in {time.perf_counter() - started:.1f} s: {registry.commits:,} commits, "
        f"{registry.pull_requests:,} pull requests"
    )
    results = Results(
        context={
            **machine_context(),
            "registry": {
                "models": spec.models,
                "versions_per_model": spec.versions,
                "versions": registry.versions,
                "commits": registry.commits,
                "pull_requests": registry.pull_requests,
                "seed": spec.seed,
            },
            "runs": args.runs,
        }
    )
    bench = Bench(
        registry=registry,
        runs=args.runs,
        results=results,
        work=work,
        log=log,
        site_sizes=args.site_sizes,
        warmup=max(args.warmup, 0),
        default_size=(spec.models, spec.versions) == (DEFAULT.models, DEFAULT.versions),
    )
    for name in args.only:
        log(f"measuring {name}")
        MEASURE[name](bench)
        results.context["load_average_after"] = machine_context()["load_average"]
        results.write_json(args.json)  # after each measurement: a long run keeps what it has
    print(results.table())
    print(
        f"\n(written to {args.json}; load average {results.context['load_average']} before, "
        f"{results.context['load_average_after']} after, on {results.context['cpus']} CPUs)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
