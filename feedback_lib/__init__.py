"""feedback_lib: customer feedback and retention analytics for subscription businesses.

The public API is the union of the ``__all__`` lists of the modules imported below; each module
owns one concept (see the README for the map). ``import feedback_lib as fl`` and call ``fl.nps``,
``fl.arr_bridge``, ``fl.load_dataset`` and so on.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from .errors import (
    DataQualityWarning,
    FeedbackLibError,
    ParameterError,
    ReportError,
    SchemaError,
    SmallSampleWarning,
)
from .schema import TABLES
from .stats import Proportion, wilson_interval
from .dataset import *  # noqa: F401,F403
from .store import *  # noqa: F401,F403
from .demo import *  # noqa: F401,F403
from .nps import *  # noqa: F401,F403
from .nps_periods import *  # noqa: F401,F403
from .nps_plots import *  # noqa: F401,F403
from .nps_callbacks import *  # noqa: F401,F403
from .arr import *  # noqa: F401,F403
from .retention import *  # noqa: F401,F403
from .concentration import *  # noqa: F401,F403
from .survival import *  # noqa: F401,F403
from .churn_features import *  # noqa: F401,F403
from .churn_model import *  # noqa: F401,F403
from .churn_timevarying import *  # noqa: F401,F403
from .churn_backtest import *  # noqa: F401,F403
from .forecast import *  # noqa: F401,F403
from .sbg import *  # noqa: F401,F403
from .valuation import *  # noqa: F401,F403
from .program import *  # noqa: F401,F403
from .opportunities import *  # noqa: F401,F403
from .survey import *  # noqa: F401,F403
from .callbacks import *  # noqa: F401,F403
from .text import *  # noqa: F401,F403
from .verbatims import *  # noqa: F401,F403
from .drivers import *  # noqa: F401,F403
from .health import *  # noqa: F401,F403
from .capacity import *  # noqa: F401,F403



def __getattr__(name: str):
    # the report runner pulls in papermill and nbformat: import it only when asked for
    if name == "run_report":
        from .reporting import run_report

        return run_report
    raise AttributeError(f"module 'feedback_lib' has no attribute {name!r}")


try:
    __version__ = version("feedback_lib")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"
