"""Run the metrics where the data lives: the revenue metrics and ``nps_table`` as Ibis
expressions (``revenue``, ``survey``), executed by DuckDB, Spark, PostgreSQL or any engine Ibis
supports; ``connect`` gives the six canonical tables of such an engine and checks the data
contract there (``connect``). The pandas functions of ``feedback_lib.revenue``, ``survey`` and
``churn`` call these when handed an Ibis table. Ibis is imported on first use.

May import: ``feedback_lib.io`` (the data contract), ``feedback_lib._util``, ``feedback_lib.errors``.
"""

from feedback_lib.engines._ibis import is_ibis_table
from feedback_lib.engines.connect import EngineDataset, connect
from feedback_lib.engines.revenue import concentration_summary

__all__ = ["concentration_summary", "connect", "EngineDataset", "is_ibis_table"]
