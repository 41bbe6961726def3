"""Valuation lab: retention-to-valuation claims checked under explicit, testable assumptions.

The public names live in small modules, one concept each, and are re-exported here (and so at the
top level, ``fl.customer_base_value`` and so on):

- :mod:`feedback_lib.customer_value`: value of a customer base with constant churn, in
  perpetuity (``customer_base_value``) and over a finite horizon;
- :mod:`feedback_lib.heterogeneity`: sBG lifetimes against constant churn (Fader & Hardie 2010);
- :mod:`feedback_lib.company_simulation`: a company simulated month by month and the
  "Retention Inc. vs ChurnCo" case study;
- :mod:`feedback_lib.valuation_claims`: the claim checker and the growth / one-point claims;
- :mod:`feedback_lib.comps`: regression of revenue multiples on retention and growth;
- :mod:`feedback_lib.valuation_report`: the report's own-company helpers, headline and heatmap.

``docs/valuation.md`` states every formula, assumption and finding.
"""

from __future__ import annotations

from . import company_simulation, comps, customer_value, heterogeneity, valuation_claims, valuation_report
from .company_simulation import *  # noqa: F401,F403
from .comps import *  # noqa: F401,F403
from .customer_value import *  # noqa: F401,F403
from .heterogeneity import *  # noqa: F401,F403
from .valuation_claims import *  # noqa: F401,F403
from .valuation_report import *  # noqa: F401,F403

__all__: list[str] = [
    *customer_value.__all__,
    *heterogeneity.__all__,
    *company_simulation.__all__,
    *valuation_claims.__all__,
    *comps.__all__,
    *valuation_report.__all__,
]
