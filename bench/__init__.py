"""Reproducible benchmarks of feedback_lib against hand-written DuckDB SQL, at three scales.

``python -m bench --scale S|M|L`` (or ``make bench SCALE=L``) generates (once) and caches the
demo company as Parquet under ``bench/data/``, checks every heavy library operation against a
SQL baseline, times both interleaved, measures peak memory, runs the weekly and quarterly
reports end to end, and writes ``bench/results.md``. See :mod:`bench.run`;
``python -m bench.profiling --scale L <operation>`` shows where the library's time goes
(``bench/findings.md`` explains the results).
"""
