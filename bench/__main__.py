"""``python -m bench [NAME ...] [--quick]``: run benchmarks and print their tables.

Every module ``bench/<name>.py`` that defines ``run(quick: bool) -> str`` is a benchmark;
names on the command line may use ``-`` for ``_`` (``sync-faults`` runs ``bench/sync_faults.py``).
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import time
from pathlib import Path

import bench as bench_pkg

# Order in which `make bench` runs them (others follow alphabetically).
PREFERRED = ["spine", "ocr", "extract", "signing", "sync_throughput", "sync_faults"]


def discover() -> list[str]:
    """Names of the benchmark modules that define ``run``."""
    names = []
    for mod in pkgutil.iter_modules([str(Path(bench_pkg.__file__).parent)]):
        if mod.name.startswith("_"):
            continue
        module = importlib.import_module(f"bench.{mod.name}")
        if callable(getattr(module, "run", None)):
            names.append(mod.name)
    return sorted(names, key=lambda n: (PREFERRED.index(n) if n in PREFERRED else len(PREFERRED), n))


def main(argv: list[str] | None = None) -> int:
    """Run the named (or all) benchmarks; returns a process exit code."""
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    parser.add_argument("--quick", action="store_true", help="smaller inputs, for a smoke run")
    args = parser.parse_args(argv)
    available = discover()
    wanted = [n.replace("-", "_") for n in args.names] or available
    unknown = [n for n in wanted if n not in available]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; available: {', '.join(available)}", file=sys.stderr)
        return 2
    failed = 0
    for name in wanted:
        module = importlib.import_module(f"bench.{name}")
        started = time.monotonic()
        print(f"\n## {name}\n", flush=True)
        try:
            print(module.run(args.quick), flush=True)
        except Exception as exc:  # a failing benchmark must not hide the others' tables
            failed += 1
            print(f"benchmark {name} failed: {type(exc).__name__}: {exc}", flush=True)
        print(f"({name}: {time.monotonic() - started:.1f} s)", file=sys.stderr, flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
