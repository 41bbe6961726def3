"""Readable Breslow partial likelihood: Newton-Raphson over the distinct event times.

An independent check of ``fit_cox(..., ties="breslow")`` (which calls statsmodels ``PHReg``):
at each distinct event time t with d events, S0, S1, S2 are the sums of w, w x and w x x' over
the risk set (w = exp(x'b)); score U = sum (x_events - d S1/S0); information
I = sum d (S2/S0 - (S1/S0)(S1/S0)'). Breslow (1974); Therneau & Grambsch (2000), section 3.3.
"""

from __future__ import annotations

import numpy as np


def breslow_cox(time, event, x, *, iterations: int = 25) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients and model-based standard errors of the Breslow Cox fit."""
    time, event, x = np.asarray(time, float), np.asarray(event, bool), np.asarray(x, float)
    beta = np.zeros(x.shape[1])
    for _ in range(iterations):
        w = np.exp(x @ beta)
        score = np.zeros_like(beta)
        info = np.zeros((len(beta), len(beta)))
        for t in np.unique(time[event]):
            risk = time >= t
            dead = event & (time == t)
            s0 = w[risk].sum()
            s1 = (w[risk, None] * x[risk]).sum(axis=0)
            s2 = (w[risk, None, None] * x[risk, :, None] * x[risk, None, :]).sum(axis=0)
            d = dead.sum()
            score += x[dead].sum(axis=0) - d * s1 / s0
            info += d * (s2 / s0 - np.outer(s1, s1) / s0**2)
        beta = beta + np.linalg.solve(info, score)
    return beta, np.sqrt(np.diag(np.linalg.inv(info)))
