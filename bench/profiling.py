"""Where the library's time goes: cProfile of one operation's library call on cached data.

``python -m bench.profiling --scale L account_lifetimes account_covariates`` loads the inputs of
each named operation (as the timing worker does), runs its library call once under cProfile and
prints the functions with the most internal time and the ``feedback_lib`` functions with the
most cumulative time. Use it to back a proposed optimisation with numbers.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import time
import warnings

from .data import DEFAULT_DATA_DIR, cache_folder
from .inputs import Inputs
from .ops import OPERATIONS_BY_NAME
from .scales import AS_OF, SCALES

__all__ = ["main", "profile_operation"]


def profile_operation(name: str, *, folder, top: int = 15) -> str:
    """Profile the library call of operation ``name`` on the cache ``folder``; returns the report."""
    op = OPERATIONS_BY_NAME[name]
    inputs = Inputs(folder, as_of=AS_OF)
    for input_name in op.inputs:
        inputs.get(input_name)
    profiler = cProfile.Profile()
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        profiler.runcall(op.library, inputs, AS_OF)
    seconds = time.perf_counter() - start
    out = io.StringIO()
    out.write(f"== {op.label}: {seconds:.2f} s under cProfile\n-- by internal time\n")
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    out.write("-- feedback_lib functions by cumulative time\n")
    stats.sort_stats("cumulative").print_stats("feedback_lib", top)
    return "\n".join(line for line in out.getvalue().splitlines() if line.strip())


def main(argv: list[str] | None = None) -> int:
    """``python -m bench.profiling``: see the module docstring."""
    parser = argparse.ArgumentParser(prog="python -m bench.profiling", description=__doc__.splitlines()[0])
    parser.add_argument("operations", nargs="+", choices=list(OPERATIONS_BY_NAME))
    parser.add_argument("--scale", choices=list(SCALES), default="L")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--data-dir", default=DEFAULT_DATA_DIR)
    parser.add_argument("--top", type=int, default=15, help="rows per listing")
    args = parser.parse_args(argv)
    folder = cache_folder(args.data_dir, SCALES[args.scale], args.seed)
    if not folder.exists():
        parser.error(f"no cached data in {folder}; run `python -m bench --scale {args.scale}` first")
    for name in args.operations:
        print(profile_operation(name, folder=folder, top=args.top), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
