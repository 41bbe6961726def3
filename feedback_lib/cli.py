"""The ``feedback-lib`` command line: ``demo``, ``ingest`` and ``report``.

Every failure the library raises on purpose is printed as one readable message (no traceback)
and exits with status 1; a usage error exits with status 2 (argparse).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from feedback_lib.errors import FeedbackLibError


def _cmd_demo(args: argparse.Namespace) -> int:
    from feedback_lib.demo import generate_demo
    from feedback_lib.io import save_dataset

    kwargs = {"seed": args.seed, "n_accounts": args.accounts}
    if args.start:
        kwargs["start"] = args.start
    if args.end:
        kwargs["end"] = args.end
    dataset = generate_demo(**kwargs)
    out = save_dataset(dataset, args.out, format=args.format)
    counts = ", ".join(f"{k} {v:,}" for k, v in dataset.row_counts().items())
    print(f"demo company written to {out} ({counts}); planted values in {out / 'TRUTH.json'}")
    return 0


def _cmd_ingest(args: argparse.Namespace) -> int:
    from feedback_lib.io import ingest

    result = ingest(args.source, db=args.db, errors="quarantine" if args.quarantine else "raise",
                    encoding=args.encoding)
    accepted = sum(result.accepted.values())
    rejected = sum(result.rejected.values())
    print(f"ingest {result.ingest_id} into {args.db}: {accepted:,} rows upserted, {rejected:,} rejected"
          + (" (see table rejected_rows)" if rejected else ""))
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from feedback_lib.reporting import run_report

    params = dict(args.param or [])
    path = run_report(args.kind, as_of=args.as_of, source=args.source, out=args.out, params=params,
                      progress=not args.no_progress)
    print(f"{args.kind} report written to {path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``feedback-lib``."""
    parser = argparse.ArgumentParser(prog="feedback-lib", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="write the deterministic demo company's exports")
    demo.add_argument("--out", required=True, type=Path, help="folder for the CSV exports and TRUTH.json")
    demo.add_argument("--seed", type=int, default=42)
    demo.add_argument("--accounts", type=int, default=2000, help="number of accounts (default 2000)")
    demo.add_argument("--start", help="first day of the data (default 2023-10-01)")
    demo.add_argument("--end", help="last day of the data (default 2026-09-30)")
    demo.add_argument("--format", choices=["csv", "parquet"], default="csv")
    demo.set_defaults(func=_cmd_demo)

    ing = sub.add_parser("ingest", help="validate exports and load them into the DuckDB store")
    ing.add_argument("source", help="folder of CSV/Parquet exports, .xlsx workbook or .duckdb file")
    ing.add_argument("--db", required=True, help="the DuckDB store file")
    ing.add_argument("--quarantine", action="store_true",
                     help="load the valid rows and keep rejected ones in rejected_rows (default: reject the batch)")
    ing.add_argument("--encoding", help="encoding of CSV files without BOM (default UTF-8)")
    ing.set_defaults(func=_cmd_ingest)

    rep = sub.add_parser("report", help="run a report notebook (weekly, quarterly, valuation)")
    rep.add_argument("kind", choices=["weekly", "quarterly", "valuation"])
    rep.add_argument("--as-of", required=True, dest="as_of", help="last day included, YYYY-MM-DD")
    rep.add_argument("--source", required=True, help="anything load_dataset reads (folder, .xlsx, .duckdb)")
    rep.add_argument("--out", required=True, help="reports folder; writes OUT/KIND/<period>/")
    rep.add_argument("-p", "--param", nargs=2, action="append", metavar=("NAME", "VALUE"),
                     help="a notebook parameter (repeatable)")
    rep.add_argument("--no-progress", action="store_true", help="no progress bar")
    rep.set_defaults(func=_cmd_report)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``feedback-lib`` console script."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except FeedbackLibError as exc:
        print(f"feedback-lib {args.command}: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
