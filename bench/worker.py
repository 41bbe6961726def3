"""Child-process entry points: ``generate`` the demo data, or time / measure one ``op``.

Every measurement runs in a fresh process so that operations cannot share caches, allocator
pools or DuckDB state. Results are written as JSON to ``--out``.

- ``generate``: times ``feedback_lib.generate_demo`` (and, separately, writing the Parquet
  files) and records the peak resident set during generation.
- ``op --mode time``: loads the inputs, runs the library call and the baseline once (warm-up),
  checks that they agree, then runs ``--repeats`` interleaved pairs (library, baseline,
  library, baseline, ...) and records every wall time. With ``--release`` the process hands
  freed memory back to the OS before every call (glibc ``malloc_trim``); the runner uses it for
  the default-allocator runs (see :data:`bench.run.RETAIN_ALLOCATOR`).
- ``op --mode memory --side library|baseline``: loads the inputs, then runs one side once and
  records its peak resident set above the inputs (:func:`bench.measure.peak_during`).
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import json
import time
import warnings
from dataclasses import asdict
from functools import partial
from pathlib import Path

from .inputs import Inputs
from .measure import peak_during, rss_mb
from .ops import OPERATIONS_BY_NAME
from .scales import END, SCALES, START

__all__ = ["generate", "main", "measure_operation"]


def _release_memory() -> None:
    """Collect garbage and hand freed heap pages back to the OS, so the next peak starts clean."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: the peak may be underestimated a little
        pass


def generate(scale_name: str, seed: int, dest: str | Path) -> dict:
    """Generate the demo company of ``scale_name`` into ``dest`` (Parquet) and time it."""
    import feedback_lib as fl

    scale = SCALES[scale_name]
    start, cpu = time.perf_counter(), time.process_time()
    dataset, peak, base = peak_during(partial(
        fl.generate_demo, seed=seed, n_accounts=scale.n_accounts, start=START, end=END,
        usage_history_weeks=scale.usage_history_weeks,
    ))
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    start = time.perf_counter()
    fl.save_dataset(dataset, dest, format="parquet")
    return {
        "generate_seconds": seconds,
        "generate_cpu_seconds": cpu,
        "generate_peak_mb": peak,
        "generate_base_mb": base,
        "write_parquet_seconds": time.perf_counter() - start,
        "rows": dataset.row_counts(),
        "generated_on": time.strftime("%Y-%m-%d %H:%M:%S"),
    }


def _connect(inputs: Inputs, names: tuple[str, ...]):
    """A DuckDB connection with every input registered as an Arrow table (DuckDB's fastest scan;
    text columns convert without a copy)."""
    import duckdb
    import pyarrow as pa

    con = duckdb.connect()
    con.execute("SET threads TO 2")
    for name in names:
        con.register(name, pa.Table.from_pandas(inputs.get(name), preserve_index=False))
    return con


def measure_operation(name: str, *, data: str | Path, as_of: str, mode: str, side: str = "library",
                      repeats: int = 1, release: bool = True) -> dict:
    """Time (``mode="time"``) or measure the memory of (``mode="memory"``) one operation.

    See the module docstring; returns the JSON-ready record.
    """
    op = OPERATIONS_BY_NAME[name]
    start = time.perf_counter()
    inputs = Inputs(data, as_of=as_of)
    for input_name in op.inputs:
        inputs.get(input_name)
    con = _connect(inputs, op.inputs) if op.baseline is not None else None
    out: dict = {"name": op.name, "load_seconds": time.perf_counter() - start}
    library = partial(op.library, inputs, as_of)
    baseline = partial(op.baseline, con, as_of) if con is not None else None
    _release_memory()
    out["inputs_rss_mb"] = rss_mb()
    if mode == "memory":
        _, peak, base = peak_during(library if side == "library" else baseline)
        return {**out, "side": side, "peak_mb": peak, "base_mb": base}

    def timed(call):
        _release_memory() if release else gc.collect()
        begin = time.perf_counter()
        result = call()
        return result, time.perf_counter() - begin

    lib_result, lib_warm = timed(library)
    out["warmup"] = {"library": lib_warm}
    if op.info is not None:
        out["info"] = op.info(lib_result)
    if baseline is not None:
        sql_result, sql_warm = timed(baseline)
        out["warmup"]["baseline"] = sql_warm
        out["check"] = asdict(op.check(lib_result, sql_result))
        del sql_result
    del lib_result
    out["library_seconds"], out["baseline_seconds"] = [], []
    for _ in range(repeats):
        out["library_seconds"].append(timed(library)[1])
        if baseline is not None:
            out["baseline_seconds"].append(timed(baseline)[1])
    return out


def main(argv: list[str] | None = None) -> int:
    """Run one worker command; see the module docstring."""
    parser = argparse.ArgumentParser(prog="python -m bench.worker")
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate")
    gen.add_argument("--scale", choices=list(SCALES), required=True)
    gen.add_argument("--seed", type=int, required=True)
    gen.add_argument("--dest", required=True)
    gen.add_argument("--out", required=True)
    op = sub.add_parser("op")
    op.add_argument("--name", choices=list(OPERATIONS_BY_NAME), required=True)
    op.add_argument("--data", required=True)
    op.add_argument("--as-of", dest="as_of", required=True)
    op.add_argument("--mode", choices=["time", "memory"], required=True)
    op.add_argument("--side", choices=["library", "baseline"], default="library")
    op.add_argument("--repeats", type=int, default=1)
    op.add_argument("--release", action="store_true", help="malloc_trim before every timed call")
    op.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")  # SmallSampleWarning etc. are expected at every scale
    if args.command == "generate":
        result = generate(args.scale, args.seed, args.dest)
    else:
        result = measure_operation(args.name, data=args.data, as_of=args.as_of, mode=args.mode, side=args.side,
                                   repeats=args.repeats, release=args.release or args.mode == "memory")
    Path(args.out).write_text(json.dumps(result, indent=2, default=float), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
