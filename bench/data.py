"""Demo data at benchmark scale, generated once and cached as Parquet.

The cache folder is ``<data_dir>/<scale>/seed<seed>/``: one Parquet file per table (written by
``feedback_lib.save_dataset``, so ``feedback-lib report --source`` reads it), ``TRUTH.json`` and
``bench.json``. ``bench.json`` records the generator arguments, a fingerprint of the generator's
source code, and the wall time and peak memory of the generation itself; a folder whose record
does not match the requested scale, seed and generator is regenerated.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from pathlib import Path

from .measure import run_measured
from .scales import END, START, Scale

__all__ = ["DEFAULT_DATA_DIR", "cache_folder", "ensure_data", "generator_fingerprint"]

DEFAULT_DATA_DIR = Path(__file__).resolve().parent / "data"
_STAMP = "bench.json"
_GENERATOR_MODULES = ("demo/company.py", "demo/engine.py", "demo/vocabulary.py")


def generator_fingerprint() -> str:
    """First 12 hex digits of the SHA-256 of the demo generator's source files."""
    import feedback_lib

    package = Path(feedback_lib.__file__).resolve().parent
    digest = hashlib.sha256()
    for name in _GENERATOR_MODULES:
        digest.update((package / name).read_bytes())
    return digest.hexdigest()[:12]


def cache_folder(data_dir: Path, scale: Scale, seed: int) -> Path:
    """Folder of the cached tables of ``scale`` and ``seed``."""
    return Path(data_dir).resolve() / scale.name / f"seed{seed}"


def _key(scale: Scale, seed: int) -> dict:
    return {
        "scale": scale.name,
        "seed": seed,
        "n_accounts": scale.n_accounts,
        "start": START,
        "end": END,
        "usage_history_weeks": scale.usage_history_weeks,
        "generator": generator_fingerprint(),
    }


def ensure_data(data_dir: Path, scale: Scale, seed: int, *, regenerate: bool = False, inline: bool = False) -> dict:
    """Make sure the cache of ``scale`` and ``seed`` exists; return its ``bench.json`` record.

    Generation runs in a fresh child process (``python -m bench.worker generate``; in this
    process with ``inline``), which times ``generate_demo`` alone and measures its peak resident
    set; writing the Parquet files is timed separately. The record says whether this call
    generated the data (``cached`` False) or found it.
    """
    folder = cache_folder(data_dir, scale, seed)
    key = _key(scale, seed)
    stamp = folder / _STAMP
    if stamp.exists() and not regenerate:
        record = json.loads(stamp.read_text(encoding="utf-8"))
        if {k: record.get(k) for k in key} == key:
            return {**record, "cached": True}
    staging = folder.with_name(f"{folder.name}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    if inline:
        from .worker import generate

        record = {**key, **generate(scale.name, seed, staging)}
    else:
        record = {**key, **_generate_in_child(scale, seed, staging)}
    (staging / _STAMP).write_text(json.dumps(record, indent=2), encoding="utf-8")
    shutil.rmtree(folder, ignore_errors=True)
    staging.rename(folder)
    return {**record, "cached": False}


def _generate_in_child(scale: Scale, seed: int, staging: Path) -> dict:
    result_file = staging / "generation.json"
    cmd = [sys.executable, "-m", "bench.worker", "generate", "--scale", scale.name, "--seed", str(seed),
           "--dest", str(staging), "--out", str(result_file)]
    run = run_measured(cmd, cwd=Path(__file__).resolve().parents[1])
    if run.returncode != 0:
        raise RuntimeError(f"demo generation at scale {scale.name} failed (exit {run.returncode}):\n{run.stderr[-3000:]}")
    record = json.loads(result_file.read_text(encoding="utf-8"))
    result_file.unlink()
    return {**record, "process_max_rss_mb": run.max_rss_mb}
