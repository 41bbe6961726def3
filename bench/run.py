"""Run the benchmark suite at one scale: data, operations (time, check, memory), reports.

``python -m bench --scale S|M|L`` (see :func:`main` for the options). Each operation runs in
fresh child processes (:mod:`bench.worker`): one that checks library and baseline agree and
times the interleaved pairs, and, unless ``--no-memory``, one per side that measures the peak
memory of a single run. Results go to ``<out>/results/<scale>.json`` and ``<out>/results.md``
(every scale found in ``<out>/results/``, largest first); the table of this run is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import warnings
from collections.abc import Callable
from functools import partial
from pathlib import Path

from .data import DEFAULT_DATA_DIR, cache_folder, ensure_data
from .environment import describe_environment
from .measure import run_measured
from .ops import OPERATIONS, Operation
from .reports import REPORT_KINDS, run_report
from .results import render_document, render_scale
from .scales import AS_OF, SCALES
from .worker import measure_operation

__all__ = ["main", "run_suite", "write_document"]

_ROOT = Path(__file__).resolve().parents[1]

#: Environment of the timing workers: glibc keeps freed blocks of up to 1 GiB for reuse instead of
#: returning every array above 32 MB to the OS. DuckDB manages its own memory and keeps it
#: cached between queries; numpy allocates through glibc, and without this setting each call
#: page-faults its arrays back in (about 2 ms per MB on the virtual machines the suite was tuned
#: on, where the host backs guest memory lazily). The suite also times every operation once
#: with glibc's defaults and reports those ratios in the notes.
RETAIN_ALLOCATOR = {"MALLOC_MMAP_THRESHOLD_": str(1 << 30)}


def _worker(args: list[str], *, env: dict[str, str] | None = None) -> dict:
    """Run ``python -m bench.worker op ...`` and return its JSON (or the error it died with)."""
    with tempfile.TemporaryDirectory(prefix="bench-worker-") as tmp:
        out = Path(tmp) / "result.json"
        environment = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
        run = run_measured([sys.executable, "-m", "bench.worker", "op", *args, "--out", str(out)], cwd=_ROOT,
                           env={**environment, **(env or {})})
        if run.returncode != 0 or not out.exists():
            tail = " | ".join(run.stderr.strip().splitlines()[-6:])
            return {"error": f"worker exit {run.returncode}: {tail}"}
        return {**json.loads(out.read_text(encoding="utf-8")), "process_max_rss_mb": run.max_rss_mb}


def _measure(name: str, *, folder: Path, inline: bool, mode: str, side: str = "library", repeats: int = 1,
             retain: bool = True) -> dict:
    """One worker measurement, in a fresh child process or (``inline``) in this one.

    Timings run with :data:`RETAIN_ALLOCATOR` (``retain``) or with glibc's defaults, freed memory
    handed back before every call; memory runs always use the defaults.
    """
    if inline:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return measure_operation(name, data=folder, as_of=AS_OF, mode=mode, side=side, repeats=repeats,
                                     release=mode == "memory" or not retain)
    args = ["--name", name, "--data", str(folder), "--as-of", AS_OF, "--mode", mode, "--side", side,
            "--repeats", str(repeats)]
    if mode == "memory" or not retain:
        return _worker([*args, "--release"])
    return _worker(args, env=RETAIN_ALLOCATOR)


def _operation(op: Operation, *, folder: Path, repeats: int, memory: bool, inline: bool,
               log: Callable[[str], None]) -> dict:
    """Time and check one operation, then (``memory``) measure each side's peak memory."""
    log(f"  {op.name}: timing {repeats} interleaved pair(s) after a warm-up ...")
    result = {"name": op.name, "label": op.label, "ratio_target": op.ratio_target,
              "has_baseline": op.baseline is not None,
              **_measure(op.name, folder=folder, inline=inline, mode="time", repeats=repeats)}
    if "error" in result:
        log(f"  {op.name}: FAILED {result['error']}")
        return result
    lib, sql = result["library_seconds"], result["baseline_seconds"]
    result["library_median"] = statistics.median(lib)
    if sql:
        result["baseline_median"] = statistics.median(sql)
        result["ratio_median"] = statistics.median(a / b for a, b in zip(lib, sql))
        log(f"  {op.name}: timing again with glibc's default allocator ...")
        default = _measure(op.name, folder=folder, inline=inline, mode="time", repeats=repeats, retain=False)
        if "error" not in default:
            pairs = list(zip(default["library_seconds"], default["baseline_seconds"]))
            result["default_allocator"] = {
                "library_median": statistics.median(a for a, _ in pairs),
                "baseline_median": statistics.median(b for _, b in pairs),
                "ratio_median": statistics.median(a / b for a, b in pairs),
            }
    if memory:
        sides = ("library", "baseline") if op.baseline is not None else ("library",)
        result["memory"] = {side: _measure(op.name, folder=folder, inline=inline, mode="memory", side=side)
                            for side in sides}
    check = result.get("check")
    log(f"  {op.name}: library {result['library_median']:.3f} s"
        + (f", baseline {result['baseline_median']:.3f} s, ratio {result['ratio_median']:.2f}, "
           f"check {'ok' if check['equal'] else 'MISMATCH: ' + check['detail']}" if sql else ""))
    return result


def run_suite(
    scale_name: str,
    *,
    seed: int = 42,
    repeats: int | None = None,
    data_dir: Path = DEFAULT_DATA_DIR,
    out_dir: Path = Path(__file__).resolve().parent,
    ops: list[str] | None = None,
    reports: bool = True,
    memory: bool = True,
    regenerate: bool = False,
    inline: bool = False,
    log: Callable[[str], None] = partial(print, flush=True),
) -> dict:
    """Run the suite at one scale and write the results; returns the results record.

    Parameters
    ----------
    scale_name
        A key of :data:`bench.scales.SCALES`.
    seed
        Seed of the demo company.
    repeats
        Timed pairs per operation; default the scale's (5, 1 at tiny).
    data_dir
        Root of the Parquet cache.
    out_dir
        Where ``results/<scale>.json`` and ``results.md`` are written.
    ops
        Names of the operations to run; default all.
    reports
        Run the weekly and quarterly reports end to end.
    memory
        Measure the peak memory of every operation (two more child processes per operation).
    regenerate
        Regenerate the demo data even if it is cached.
    inline
        Generate and measure in this process instead of fresh child processes (for the smoke
        test: quick, but timings and memory share the process, so not for real numbers).
    log
        Progress printer.
    """
    scale = SCALES[scale_name]
    repeats = scale.repeats if repeats is None else repeats
    record = {"scale": scale.name, "n_accounts": scale.n_accounts, "inline": inline,
              "usage_history_weeks": scale.usage_history_weeks, "seed": seed, "as_of": AS_OF,
              "repeats": repeats, "environment": describe_environment()}
    log(f"scale {scale.name}: {scale.n_accounts:,} accounts, seed {seed}, {repeats} repeat(s)")
    record["data"] = ensure_data(data_dir, scale, seed, regenerate=regenerate, inline=inline)
    log(f"  demo data {'cached' if record['data']['cached'] else 'generated'}: "
        f"generate_demo {record['data']['generate_seconds']:.1f} s, rows {record['data']['rows']}")
    folder = cache_folder(data_dir, scale, seed)
    chosen = [op for op in OPERATIONS if ops is None or op.name in ops]
    record["operations"] = [_operation(op, folder=folder, repeats=repeats, memory=memory, inline=inline, log=log) for op in chosen]
    record["reports"] = []
    for kind in REPORT_KINDS if reports else ():
        log(f"  report {kind} ...")
        record["reports"].append(run_report(kind, as_of=AS_OF, source=folder))
        log(f"  report {kind}: {record['reports'][-1]['status']}")
    record["environment"]["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    results_dir = Path(out_dir) / "results"
    results_dir.mkdir(parents=True, exist_ok=True)
    (results_dir / f"{scale.name}.json").write_text(json.dumps(record, indent=2, default=float), encoding="utf-8")
    write_document(out_dir)
    log(render_scale(record))
    return record


def write_document(out_dir: Path) -> Path:
    """Render ``<out_dir>/results.md`` from every ``<out_dir>/results/<scale>.json``."""
    records = [json.loads(p.read_text(encoding="utf-8")) for p in (Path(out_dir) / "results").glob("*.json")]
    path = Path(out_dir) / "results.md"
    path.write_text(render_document(records), encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    """``python -m bench``: run the suite at one scale (``--help`` lists the options)."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=list(SCALES), default="S",
                        help="tiny = 300, S = 10,000, M = 100,000, L = 1,000,000 accounts")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--repeats", type=int, help="timed pairs per operation (default 5; 1 at tiny)")
    parser.add_argument("--ops", help="comma-separated operation names (default all; results/<scale>.json "
                        "then holds only these): "
                        + ", ".join(op.name for op in OPERATIONS))
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="Parquet cache root")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent,
                        help="folder for results.md and results/<scale>.json (default bench/)")
    parser.add_argument("--no-reports", action="store_true", help="skip the end-to-end report runs")
    parser.add_argument("--no-memory", action="store_true", help="skip the per-operation memory runs")
    parser.add_argument("--regenerate", action="store_true", help="regenerate the demo data")
    parser.add_argument("--render-only", action="store_true",
                        help="only rewrite results.md from the stored results/<scale>.json")
    args = parser.parse_args(argv)
    if args.render_only:
        print(f"wrote {write_document(args.out)}")
        return 0
    if args.repeats is not None and args.repeats < 1:
        parser.error("--repeats must be at least 1")
    ops = args.ops.split(",") if args.ops else None
    unknown = sorted(set(ops or ()) - {op.name for op in OPERATIONS})
    if unknown:
        parser.error(f"unknown operation(s) {unknown}")
    run_suite(args.scale, seed=args.seed, repeats=args.repeats, data_dir=args.data_dir, out_dir=args.out, ops=ops,
              reports=not args.no_reports, memory=not args.no_memory, regenerate=args.regenerate)
    return 0
