"""The NPS survey: the score with honest intervals (``score``; ``fl.nps`` is a function, so no
module is called ``nps``), NPS by period and group with the control chart (``periods``), plots, and
the weekly survey sampler (``sampling``).

May import: ``feedback_lib.revenue`` (the MRR rule, for sampling by revenue), ``feedback_lib._util``,
``feedback_lib.errors``.
"""

from feedback_lib.survey.drilldown import nps_responses
from feedback_lib.survey.periods import nps_control_chart, nps_table
from feedback_lib.survey.plots import plot_control_chart, plot_nps_trend
from feedback_lib.survey.sampling import inclusion_probabilities, survey_send_list
from feedback_lib.survey.score import (
    NPSChange,
    NPSResult,
    nps,
    nps_category,
    nps_change,
    nps_sample_size,
)

__all__ = [
    "nps_responses",
    "inclusion_probabilities",
    "nps",
    "nps_category",
    "nps_change",
    "nps_control_chart",
    "nps_sample_size",
    "nps_table",
    "NPSChange",
    "NPSResult",
    "plot_control_chart",
    "plot_nps_trend",
    "survey_send_list",
]
