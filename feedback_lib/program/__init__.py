"""The feedback programme: executive conversations (``conversations``), opportunities and
the expansion that followed (``opportunities``), the callback queue and the callback loop
(``callbacks``), customer health (``health``) and customer-success capacity (``capacity``).

May import: ``feedback_lib.churn``, ``feedback_lib.verbatims``, ``feedback_lib.survey``,
``feedback_lib.revenue``, ``feedback_lib.io``, ``feedback_lib._util``, ``feedback_lib.errors``.
"""

from feedback_lib.program.callbacks import CallbackLoop, callback_loop, callback_queue
from feedback_lib.program.capacity import (
    CallBrief,
    call_brief,
    csm_headcount,
    csm_load,
    outreach_list,
)
from feedback_lib.program.conversations import (
    accounts_not_spoken_to,
    competitor_mention_rate,
    competitor_mentions,
    conversation_cadence,
    coverage_of_top_accounts,
)
from feedback_lib.program.health import (
    DEFAULT_HEALTH_WEIGHTS,
    HealthBacktest,
    backtest_health,
    concordance,
    health_score,
)
from feedback_lib.program.opportunities import OpportunityOutcomes, opportunity_outcomes

__all__ = [
    "accounts_not_spoken_to",
    "backtest_health",
    "call_brief",
    "callback_loop",
    "callback_queue",
    "CallbackLoop",
    "CallBrief",
    "competitor_mention_rate",
    "competitor_mentions",
    "concordance",
    "conversation_cadence",
    "coverage_of_top_accounts",
    "csm_headcount",
    "csm_load",
    "DEFAULT_HEALTH_WEIGHTS",
    "health_score",
    "HealthBacktest",
    "opportunity_outcomes",
    "OpportunityOutcomes",
    "outreach_list",
]
