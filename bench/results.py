"""The results table: one row per operation and report, with its target, rendered as Markdown."""

from __future__ import annotations

import math

__all__ = ["TARGETS", "render_document", "render_scale", "table_rows"]

#: The issue's targets: (row, scale) -> parts, each (what, text, predicate on the row).
TARGETS = {
    ("generate_demo", "L"): [("time", "≤ 90 s", lambda r: r["library_s"] <= 90)],
    ("report weekly", "M"): [("time", "≤ 20 s", lambda r: r["library_s"] <= 20)],
    ("report weekly", "L"): [("time", "≤ 45 s", lambda r: r["library_s"] <= 45),
                             ("memory", "peak < 4 GB", lambda r: r["library_mb"] < 4096)],
    ("report quarterly", "L"): [("time", "≤ 180 s", lambda r: r["library_s"] <= 180),
                                ("memory", "peak < 4 GB", lambda r: r["library_mb"] < 4096)],
}
_RATIO_TARGET = "ratio ≤ 1.0"
_HEADER = ("| operation | library median s | baseline median s | ratio lib/sql | library peak MB "
           "| baseline peak MB | check | target | met? |")
_RULE = "|---|--:|--:|--:|--:|--:|---|---|---|"


def _seconds(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "—"
    return f"{value:.3f}" if value < 10 else f"{value:.1f}"


def _mb(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}"


def _peak(op: dict, side: str) -> float | None:
    memory = op.get("memory", {}).get(side)
    if not memory or "peak_mb" not in memory:
        return None
    return memory["peak_mb"] - memory["base_mb"]


def _target(row: dict, key: str, scale: str, ratio_target: bool = False) -> tuple[str, str]:
    if ratio_target:
        if scale != "L":
            return f"{_RATIO_TARGET} at L", "—"
        ratio = row.get("ratio")
        return _RATIO_TARGET, "—" if ratio is None else ("yes" if ratio <= 1.0 else "**no**")
    if (key, scale) not in TARGETS:
        return "—", "—"
    parts = TARGETS[(key, scale)]
    text = ", ".join(t for _, t, _ in parts)
    if row.get("library_s") is None:
        return text, "—"
    verdicts = [(what, "yes" if met(row) else "**no**") for what, _, met in parts]
    if len(verdicts) == 1:
        return text, verdicts[0][1]
    return text, ", ".join(f"{what} {verdict}" for what, verdict in verdicts)


def table_rows(record: dict) -> list[dict]:
    """Rows of the results table of one scale (numbers, before formatting)."""
    scale = record["scale"]
    data = record["data"]
    rows = []
    generation = {"operation": f"generate_demo ({record['n_accounts']:,} accounts)",
                  "library_s": data["generate_seconds"], "library_mb": data["generate_peak_mb"],
                  "check": "—"}
    generation["target"], generation["met"] = _target(generation, "generate_demo", scale)
    rows.append(generation)
    for op in record["operations"]:
        row = {"operation": op["label"], "library_s": op.get("library_median"),
               "baseline_s": op.get("baseline_median"), "ratio": op.get("ratio_median"),
               "library_mb": _peak(op, "library"), "baseline_mb": _peak(op, "baseline")}
        if "error" in op:
            row["check"] = "error"
        elif op.get("check"):
            row["check"] = "ok" if op["check"]["equal"] else "**MISMATCH**"
        else:
            row["check"] = "—"
        row["target"], row["met"] = _target(row, op["name"], scale, ratio_target=op["ratio_target"])
        rows.append(row)
    for report in record["reports"]:
        key = f"report {report['kind']}"
        ok = report["status"] == "ok"
        row = {"operation": f"`feedback-lib report {report['kind']}` (papermill + HTML)",
               "library_s": report.get("seconds") if ok else None,
               "library_mb": report.get("tree_peak_mb") if ok else None,
               "check": report["status"]}
        row["target"], row["met"] = _target(row, key, scale)
        rows.append(row)
    return rows


def _table(record: dict) -> list[str]:
    lines = [_HEADER, _RULE]
    for r in table_rows(record):
        ratio = r.get("ratio")
        lines.append(
            f"| {r['operation']} | {_seconds(r.get('library_s'))} | {_seconds(r.get('baseline_s'))} "
            f"| {'—' if ratio is None else f'{ratio:.2f}'} | {_mb(r.get('library_mb'))} | {_mb(r.get('baseline_mb'))} "
            f"| {r['check']} | {r['target']} | {r['met']} |"
        )
    return lines


def _notes(record: dict) -> list[str]:
    data, env = record["data"], record["environment"]
    rows = ", ".join(f"{k} {v:,}" for k, v in data["rows"].items())
    usage = ("full weekly history" if record["usage_history_weeks"] is None
             else f"`usage_history_weeks={record['usage_history_weeks']}` (last {record['usage_history_weeks']} weeks of usage kept)")
    notes = [
        f"- Data: `generate_demo(seed={record['seed']}, n_accounts={record['n_accounts']:,}, start=2023-10-01, "
        f"end=2026-09-30)`, {usage}; rows: {rows}. Generated {data['generated_on']} "
        f"({'read from the Parquet cache in this run' if data['cached'] else 'in this run'}); "
        + (f"generation used {data['generate_cpu_seconds']:.1f} s of CPU; " if "generate_cpu_seconds" in data else "")
        + f"writing Parquet took {data['write_parquet_seconds']:.1f} s (not part of the generation time).",
        f"- Load average (1, 5, 15 min) at start {env['load_average_start']}, at end {env.get('load_average_end')}: "
        "a 1-minute load above 0 means other work shared the 2 cores, which is why only same-run ratios are compared.",
    ]
    for op in record["operations"]:
        if "error" in op:
            notes.append(f"- {op['label']}: failed: {op['error']}")
            continue
        check = op.get("check")
        if check and not check["equal"]:
            notes.append(f"- {op['label']}: library and baseline DISAGREE: {check['detail']}")
        elif check:
            default = op.get("default_allocator")
            notes.append(f"- {op['label']}: same result on {check['rows']:,} rows "
                         f"(largest absolute difference {check['max_abs_diff']:.2g}); pair ratios "
                         + ", ".join(f"{a / b:.2f}" for a, b in zip(op["library_seconds"], op["baseline_seconds"]))
                         + (f"; with glibc's default allocator {default['library_median']:.3f} s vs "
                            f"{default['baseline_median']:.3f} s, ratio {default['ratio_median']:.2f}" if default else "")
                         + ".")
        if op.get("info"):
            notes.append(f"- {op['label']}: " + ", ".join(f"{k} = {v:,.4g}" if isinstance(v, float) else f"{k} = {v:,}"
                                                          for k, v in op["info"].items()) + ".")
    for report in record["reports"]:
        if report["status"] != "ok":
            notes.append(f"- report {report['kind']}: {report['status']}: {report.get('detail', '')}")
            continue
        steps = ", ".join(f"{k} {v:.1f} s" for k, v in report.get("steps_seconds", {}).items())
        cells = "; ".join(f"{c['seconds']:.1f} s `{c['cell']}`" for c in report.get("slowest_cells", []))
        cpu = f"{report['cpu_seconds']:.1f} s of CPU (CLI + kernel), " if "cpu_seconds" in report else ""
        notes.append(f"- report {report['kind']}: {cpu}largest single process {report['max_rss_mb']:,.0f} MB, "
                     f"whole process tree {report['tree_peak_mb']:,.0f} MB (the table shows the tree). Steps: {steps}. "
                     f"Slowest cells: {cells}.")
    return notes


def render_scale(record: dict) -> str:
    """Markdown section of one scale: heading, table and notes."""
    usage = "" if record["usage_history_weeks"] is None else f", usage history {record['usage_history_weeks']} weeks"
    head = (f"## Scale {record['scale']}: {record['n_accounts']:,} accounts{usage}\n\n"
            f"Run {record['environment']['date']} (git {record['environment']['git_revision']}"
            + (f", library fingerprint {record['environment']['library_fingerprint']}"
               if "library_fingerprint" in record["environment"] else "")
            + f"), seed {record['seed']}, as of {record['as_of']}, "
            f"{record['repeats']} timed pair(s) per operation after one warm-up."
            + (" Inline smoke run (everything in one process): not for comparison." if record.get("inline") else "")
            + "\n")
    return "\n".join([head, *_table(record), "", *_notes(record), ""])


def _environment(env: dict) -> list[str]:
    packages = ", ".join(f"{k} {v}" for k, v in env["packages"].items())
    return [
        f"- Machine: {env['cpu']}, {env['cores']} cores, {env['ram_gb']} GB RAM; {env['os']}.",
        f"- Python {env['python']}; {packages}; git revision {env['git_revision']}"
        + (f", library source fingerprint {env['library_fingerprint']}" if "library_fingerprint" in env else "") + ".",
    ]


METHOD = """## Method

- Every operation runs in fresh child processes (`python -m bench.worker`). The timing process
  loads the inputs from the Parquet cache, runs the library call and the baseline once (warm-up),
  checks that both give the same rows and values (keys exactly; numbers to 1e-6 absolute for
  money, 1e-9 or better otherwise, plus 1e-9 relative), then runs `--repeats` interleaved pairs
  (library, baseline, library, baseline, ...). The table shows the median time of each side and
  the median of the per-pair ratios library / baseline, so load from other jobs on the machine
  affects both sides of a pair alike.
- Memory allocator: DuckDB keeps the memory it allocates cached between queries; the library's
  numpy arrays go through glibc, which by default returns every block above 32 MB to the
  operating system and page-faults it back on the next call (on the suite's virtual machines
  about 2 ms per MB, because the host backs guest memory lazily and reclaims what stays idle).
  The timing processes therefore run with `MALLOC_MMAP_THRESHOLD_=1073741824` (glibc keeps freed
  blocks up to 1 GiB for reuse) and do not trim memory between calls; the table shows these
  ratios. Every operation is also timed with glibc's defaults, memory handed back before each
  call, and the notes give that ratio too. Memory peaks are measured with the defaults.
- Baselines are hand-written DuckDB SQL (`SET threads TO 2`) over the same in-memory tables,
  registered with the connection as Arrow tables (DuckDB's fastest scan; text columns convert
  without a copy) before timing; a baseline ends with its result materialised as an Arrow table
  (the conversion to pandas is not charged to it). Money is
  added as BIGINT micro-units (exact, as in the library), months are integer keys; where several
  formulations were tried at L, the fastest correct one is kept.
- Peak memory: one more fresh process per side loads the same inputs, then runs the call once;
  the peak is the kernel's resident-set high-water mark during the call (reset through
  `/proc/self/clear_refs` just before it) minus the resident set just before it, so it counts
  everything the call allocated (numpy, pandas, Arrow, DuckDB) beyond its inputs. For demo
  generation it is the absolute peak of the generating process.
- Reports: `feedback-lib report weekly|quarterly --as-of 2026-09-30 --source <cache folder>`
  (the Parquet folder, validated by `load_dataset` inside the report) in a child process; wall
  time from start to exit; memory is the highest sampled sum of the resident sets of the CLI
  process and its Jupyter kernel (sampled every 0.2 s), and `ru_maxrss` of the largest single
  process is in the notes. One run per report.
- Derived inputs are built with the library before timing and shared by both sides:
  `revenue = fl.monthly_revenue(subscriptions)`, responses joined with `accounts.segment`, and
  `fl.account_lifetimes(revenue)` joined with `accounts.segment` for Kaplan-Meier.
- Rows without a baseline (`ChurnModel().fit`) time the library alone; the Kaplan-Meier
  baseline computes the curves with lifelines' exponential-Greenwood bands and the medians, not
  the log-rank tests or restricted means the library adds, so its ratio is not a target.
"""


def render_document(records: list[dict]) -> str:
    """The whole ``results.md``: every scale found, largest first, then the method."""
    order = {"L": 0, "M": 1, "S": 2, "tiny": 3}
    records = sorted(records, key=lambda r: order.get(r["scale"], 9))
    lines = ["# Benchmark results", "",
             "Produced by `python -m bench --scale <S|M|L>` (`make bench SCALE=L`); each section is the "
             "latest run at that scale. What made the difference, and what is left: `findings.md`.", ""]
    if records:
        lines += _environment(records[0]["environment"]) + [""]
    for record in records:
        lines.append(render_scale(record))
    lines.append(METHOD)
    return "\n".join(lines)
