"""Slides of the quarterly board deck, built from the quarterly review's section results.

:func:`quarterly_slides` turns the section results of ``feedback_lib.reporting.quarterly*`` (each
with ``takeaway``, ``metrics()`` and ``to_frame()``) into :class:`~feedback_lib.reporting.deck.Slide`
objects with native chart data or native tables: a title that is the takeaway with its number,
a caption with n and interval for every rate shown, and speaker notes with the method. It reads
the sections through their ``metrics()`` (the ``metrics.json`` contract), so the deck and
``metrics.json`` show the same numbers. Plots PowerPoint cannot draw (Kaplan-Meier bands, forest
plots, the cohort heatmap) stay pictures: the notebook adds them with ``SlideDeck.add_chart``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd

from feedback_lib.errors import ReportError
from feedback_lib.reporting.deck import Kpi, Slide
from feedback_lib.reporting.deck_charts import ChartData, TableData
from feedback_lib.reporting.display import column_label, compact

__all__ = ["QUARTERLY_SECTIONS", "nps_segment_slide", "quarterly_kpis", "quarterly_slides", "untitled_takeaways"]


def _pct(x: Any, digits: int = 1) -> str:
    return f"{x:.{digits}%}" if isinstance(x, (int, float)) and math.isfinite(x) else "n/a"


def _interval(rate: Mapping[str, Any], digits: int = 1) -> str:
    """'97.1% (95.0% to 99.2%, n = 1,234)' from a metrics rate object."""
    v, lo, hi, n = (rate.get(k) for k in ("value", "ci_low", "ci_high", "n"))
    n_text = f"n = {int(n):,}" if n is not None else "n not stated"
    if lo is None or hi is None or not (math.isfinite(lo) and math.isfinite(hi)):
        return f"{_pct(v, digits)} ({n_text})"
    return f"{_pct(v, digits)} ({_pct(lo, digits)} to {_pct(hi, digits)}, {n_text})"


def _money(x: Any, currency: str, *, signed: bool = False) -> str:
    ok = isinstance(x, (int, float)) and math.isfinite(x)
    return f"{currency} {compact(x, signed=signed)}" if ok else "n/a"


def _first_sentence(text: str) -> str:
    return text.split(". ")[0].rstrip(".")


def _table(frame: pd.DataFrame, formats: Mapping[str, Callable[[Any], str]], *, rows: int = 10) -> TableData:
    frame = frame.head(rows)
    cols = [c for c in formats if c in frame.columns]
    return TableData(columns=[column_label(c) for c in cols],
                     rows=[[formats[c](v) for c, v in zip(cols, rec)] for rec in frame[cols].itertuples(index=False)])


# ---------------------------------------------------------------- one builder per section


def _bridge(s: Any, currency: str) -> list[Slide]:
    q = s.metrics()["bridge_quarter"]
    parts = ["new", "expansion", "reactivation", "contraction", "churn"]
    values = [q["opening_arr"], *(q[p] for p in parts), q["closing_arr"]]
    growth = q["closing_arr"] / q["opening_arr"] - 1 if q["opening_arr"] else math.nan
    lost = -(q["churn"] + q["contraction"])
    title = (f"ARR {'grew' if growth >= 0 else 'fell'} {abs(growth):.1%} to {_money(q['closing_arr'], currency)}; "
             f"churn and contraction took {_money(lost, currency)}") if math.isfinite(growth) else (
             f"ARR closed the quarter at {_money(q['closing_arr'], currency)}")
    chart = ChartData(kind="waterfall", categories=["Opening", *(p.capitalize() for p in parts), "Closing"],
                      series=[{"name": "ARR", "values": [float(v) for v in values]}],
                      number_format='#,##0.0,,"M"', y_title=f"ARR ({currency})")
    qr = s.metrics().get("quick_ratio")
    caption = f"ARR = 12 x month-end MRR. Quick ratio over the trailing quarters: {qr:.1f}." if qr else (
        "ARR = 12 x month-end MRR.")
    return [Slide.native(chart, section="ARR bridge", title=title, notes=s.takeaway, caption=caption)]


def _retention(s: Any, currency: str) -> list[Slide]:
    m = s.metrics()
    names = [("nrr", "NRR"), ("grr", "GRR"), ("logo_retention", "Logo retention")]
    chart = ChartData(kind="bar", categories=[label for _, label in names],
                      series=[{"name": "Now", "values": [_none(m[k]["value"]) for k, _ in names]},
                              {"name": "A year earlier", "values": [_none(m[f"{k}_year_earlier"]["value"]) for k, _ in names]}],
                      number_format="0.0%")
    title = (f"NRR {_pct(m['nrr']['value'])}, GRR {_pct(m['grr']['value'])}: "
             f"{_pct(m['logo_retention']['value'], 0)} of last year's accounts still pay")
    caption = "; ".join(f"{label} {_interval(m[k])}" for k, label in names)
    return [Slide.native(chart, section="Retention", title=title, notes=s.takeaway, caption=caption)]


def _none(x: Any) -> float | None:
    return float(x) if isinstance(x, (int, float)) and math.isfinite(x) else None


def _at_risk(s: Any, currency: str) -> list[Slide]:
    m = s.metrics()
    if not m.get("available") or not m.get("top_by_probability"):
        return [Slide.tabular(TableData(columns=["At-risk accounts"], rows=[[s.takeaway]]), section="At-risk accounts",
                              title="0 accounts scored at risk", notes=s.takeaway)]
    money: dict[str, Callable[[Any], str]] = {"mrr": lambda v: _money(v, currency), "mrr_at_risk": lambda v: _money(v, currency),
             "churn_probability": lambda v: _pct(v, 0), "account_id": str, "reason": str, "next_step": str}
    order = ["account_id", "churn_probability", "mrr", "mrr_at_risk", "reason", "next_step"]
    fmt = {k: money[k] for k in order}
    h = m.get("horizon_months", 3)
    by_p, by_m = pd.DataFrame(m["top_by_probability"]), pd.DataFrame(m["top_by_mrr_at_risk"])
    top = by_p.iloc[0]
    return [
        Slide.tabular(_table(by_p, fmt), section="At-risk accounts",
                      title=f"{len(by_p)} accounts most likely to churn in {h} months: top at "
                            f"{_pct(top['churn_probability'], 0)}",
                      notes=s.takeaway, caption="Churn probability from the survival model; MRR in " + currency),
        Slide.tabular(_table(by_m, fmt), section="At-risk accounts",
                      title=f"{_money(m['mrr_at_risk_mrr'], currency)} MRR at risk in {h} months across "
                            f"{int(m['accounts']):,} accounts",
                      notes=s.takeaway, caption="MRR at risk = churn probability x MRR"),
    ]


def _backtest(s: Any, currency: str) -> list[Slide]:
    m = s.metrics()
    if not m.get("available"):
        return [Slide.tabular(TableData(columns=["Backtest"], rows=[[s.takeaway]]), section="Model backtest",
                              title="Backtest: 0 scored accounts", notes=s.takeaway)]
    cal = pd.DataFrame(m["calibration"])
    chart = ChartData(kind="line", categories=[str(int(d)) for d in cal["decile"]],
                      series=[{"name": "Predicted", "values": [_none(v) for v in cal["predicted"]]},
                              {"name": "Observed", "values": [_none(v) for v in cal["observed"]]}],
                      number_format="0%", x_title="Risk decile (10 = highest)", y_title="Churn in the horizon",
                      data_labels=False)
    lift = m["top_decile_lift"]
    title = (f"Backtest: concordance {m['concordance']:.2f} ({m['ci_low']:.2f} to {m['ci_high']:.2f}); "
             f"top decile churned {lift['value']:.1f}x the average")
    caption = (f"Fitted to {m['cutoff']:%d %b %Y}, n = {int(m['n']):,} accounts, {int(m['events']):,} churned; "
               f"top-decile lift {lift['value']:.1f}x ({lift['ci_low']:.1f}x to {lift['ci_high']:.1f}x)"
               if hasattr(m.get("cutoff"), "strftime") else f"n = {int(m['n']):,} accounts")
    return [Slide.native(chart, section="Model backtest", title=title, notes=s.takeaway, caption=caption)]


def _segments(s: Any, currency: str) -> list[Slide]:
    rows = s.metrics()
    if not rows:
        raise ReportError("quarterly_slides: the segment scorecard has no segment")
    names = [r["segment"] for r in rows]
    chart = ChartData(kind="bar", categories=names,
                      series=[{"name": "NRR", "values": [_none(r["nrr"]["value"]) for r in rows]},
                              {"name": "GRR", "values": [_none(r["grr"]["value"]) for r in rows]}],
                      number_format="0%")
    best = max(rows, key=lambda r: r["nrr"]["value"] if _none(r["nrr"]["value"]) is not None else -1)
    worst = min(rows, key=lambda r: r["nrr"]["value"] if _none(r["nrr"]["value"]) is not None else 9)
    title = f"NRR ranges from {_pct(worst['nrr']['value'], 0)} ({worst['segment']}) to {_pct(best['nrr']['value'], 0)} ({best['segment']})"
    table = TableData(
        columns=["Segment", "Accounts", f"ARR ({currency})", "NRR", "GRR", "Logo churn", "NPS",
                 f"ARPA ({currency}/month)", f"Lifetime value ({currency})", f"Naive ARPA/churn ({currency})"],
        rows=[[r["segment"], f"{r['accounts']:,}", compact(r["arr"]), _interval(r["nrr"], 0), _interval(r["grr"], 0),
               _interval(r["logo_churn"], 0), _nps_text(r["nps"]), compact(r["arpa_mrr"]),
               _ltv_text(r["ltv_survival"]), compact(r["ltv_naive"]) if _none(r["ltv_naive"]) is not None else "unbounded"]
              for r in rows])
    return [
        Slide.native(chart, section="Segment scorecard", title=title, notes=s.takeaway,
                     caption="; ".join(f"{r['segment']}: NRR {_interval(r['nrr'], 0)}" for r in rows)),
        Slide.tabular(table, section="Segment scorecard", title=f"{len(rows)} segments side by side: " + title,
                      notes=s.takeaway, caption="Lifetime value from survival (with interval) beside the naive ARPA / churn"),
    ]


def _nps_text(r: Mapping[str, Any]) -> str:
    score, lo, hi = r.get("score"), r.get("ci_low"), r.get("ci_high")
    if _none(score) is None:
        return f"n/a (n = {int(r.get('n') or 0):,})"
    bounds = f"{lo:+.0f} to {hi:+.0f}, " if _none(lo) is not None and _none(hi) is not None else ""
    return f"{score:+.0f} ({bounds}n = {int(r['n']):,})"


def _ltv_text(r: Mapping[str, Any]) -> str:
    v, lo, hi = (_none(r.get(k)) for k in ("value", "ci_low", "ci_high"))
    if v is None:
        return "n/a"
    return f"{compact(v)} ({compact(lo)} to {compact(hi)})" if lo is not None and hi is not None else compact(v)


def _focus(s: Any, currency: str) -> list[Slide]:
    rows = pd.DataFrame(s.metrics())
    share = getattr(s, "top5_share", math.nan)
    fmt: dict[str, Callable[[Any], str]] = {"rank": lambda v: f"{int(v)}", "name": str, "segment": str, "mrr": lambda v: _money(v, currency),
           "owner": lambda v: "none" if v is None or v != v else str(v), "health_band": str,
           "last_executive_conversation": lambda v: "never" if v is None or v != v else str(v)[:10]}
    title = f"{len(rows)} accounts make up the top 5% and hold {_pct(share, 0)} of MRR"
    return [Slide.tabular(_table(rows, fmt, rows=12), section="Concentration", title=title, notes=s.takeaway,
                          caption=f"First {min(12, len(rows))} of the top-5% accounts by MRR")]


def _programme(s: Any, currency: str) -> list[Slide]:
    m = s.metrics()
    if not m.get("available"):
        return [Slide.tabular(TableData(columns=["Executive programme"], rows=[[s.takeaway]]),
                              section="Executive programme", title="0 executive conversations in the window",
                              notes=s.takeaway)]
    execs = m["by_executive"]
    chart = ChartData(kind="bar", categories=[str(e["executive"]) for e in execs],
                      series=[{"name": "Conversations", "values": [float(e["conversations"]) for e in execs]},
                              {"name": "Target", "values": [float(e["target"]) for e in execs]}],
                      number_format="0")
    top = m["coverage"][0]
    comp, money = m["competitor_rate"], m["expansion_arr_above_controls"]
    weeks = m["window"]["weeks"]
    title = (f"{top['spoken_to']} of the {top['accounts']} largest accounts spoken to in {weeks} weeks "
             f"({_pct(top['value'], 0)}){': below target' if top.get('low') else ''}")
    caption = (f"Coverage {_interval(top, 0)}; competitors named in {_interval(comp, 0)} of conversations; "
               f"expansion ARR above matched controls {_money(money['value'], currency, signed=True)}"
               + (f" ({_money(money['ci_low'], currency, signed=True)} to {_money(money['ci_high'], currency, signed=True)}, "
                  f"n = {money['n']})" if money.get("n") else ""))
    return [Slide.native(chart, section="Executive programme", title=title, notes=s.takeaway, caption=caption)]


def _callbacks(s: Any, currency: str) -> list[Slide]:
    m = s.metrics()
    if not m.get("available"):
        return [Slide.tabular(TableData(columns=["Callbacks and churn"], rows=[[s.takeaway]]),
                              section="Callbacks and churn", title="0 comparable detractors", notes=s.takeaway)]
    a, b, d = m["churn_followed_up"], m["churn_not_followed_up"], m["difference"]
    chart = ChartData(kind="bar", categories=["Followed up", "Not followed up"],
                      series=[{"name": "Churned within 180 days", "values": [_none(a["value"]), _none(b["value"])]}],
                      number_format="0%")
    diff, lo, hi = 100 * d["value"], 100 * d["ci_low"], 100 * d["ci_high"]
    title = (f"Followed-up detractors churned {abs(diff):.0f} points {'less' if diff < 0 else 'more'} than the rest "
             f"({lo:+.0f} to {hi:+.0f} points); a comparison, not causal")
    caption = f"n = {a['n']:,} followed up, {b['n']:,} not; matched on segment, MRR band and quarter"
    return [Slide.native(chart, section="Callbacks and churn", title=title, notes=s.takeaway, caption=caption)]


def _capacity(s: Any, currency: str) -> list[Slide]:
    m = s.metrics()
    if not m.get("available"):
        return [Slide.tabular(TableData(columns=["CSM capacity"], rows=[[s.takeaway]]), section="CSM capacity",
                              title="0 CSMs could be counted", notes=s.takeaway)]
    seg = m["by_segment"]
    chart = ChartData(kind="bar", categories=[str(r["segment"]) for r in seg],
                      series=[{"name": "CSMs today", "values": [float(r["csms_now"]) for r in seg]},
                              {"name": "CSMs needed", "values": [float(r["csms_needed"]) for r in seg]}],
                      number_format="0")
    gap = m["gap"]
    title = (f"{m['csms_needed']} CSMs needed against {m['csms_now']:.0f} today: "
             + (f"{gap:.0f} short" if gap > 0 else "enough"))
    caption = "Capacity model, accounts per CSM: " + ", ".join(f"{k} {v:.0f}" for k, v in m["accounts_per_csm"].items())
    return [Slide.native(chart, section="CSM capacity", title=title, notes=s.takeaway, caption=caption)]


def _retention_value(s: Any, currency: str) -> list[Slide]:
    t = s.to_frame()
    t = t[t["year"] > 0]
    chart = ChartData(kind="bar", categories=[f"Year {int(y)}" for y in t["year"]],
                      series=[{"name": "ARR gain", "values": [float(v) for v in t["gain"]]}],
                      number_format='#,##0.00,,"M"' if t["gain"].abs().max() >= 1e6 else '#,##0,"k"',
                      y_title=f"ARR gain ({currency})")
    points = abs(s.churn_change) * 100
    change = f"{points:.0f} point{'' if round(points) == 1 else 's'} {'less' if s.churn_change < 0 else 'more'} churn"
    interval = (f" ({_money(s.arr_gain_low, currency)} to {_money(s.arr_gain_high, currency)})"
                if s.arr_gain_high > s.arr_gain_low else "")
    title = f"{change} adds {_money(s.arr_gain, currency)} ARR by year {s.years}{interval}"
    caption = (f"Revenue gained over {s.years} years, discounted: {_money(s.revenue_gain, currency)}"
               + (f" ({_money(s.revenue_gain_low, currency)} to {_money(s.revenue_gain_high, currency)})"
                  if s.revenue_gain_high > s.revenue_gain_low else " (churn given without an interval)")
               + f"; today's revenue churn {s.churn:.1%}")
    return [Slide.native(chart, section="Retention value", title=title, notes=getattr(s, "takeaway", ""), caption=caption)]


#: section key -> builder, in deck order
QUARTERLY_SECTIONS: dict[str, Callable[[Any, str], list[Slide]]] = {
    "bridge": _bridge,
    "retention": _retention,
    "at_risk": _at_risk,
    "backtest": _backtest,
    "segments": _segments,
    "focus": _focus,
    "programme": _programme,
    "callbacks": _callbacks,
    "capacity": _capacity,
    "retention_value": _retention_value,
}


def quarterly_slides(sections: Mapping[str, Any], *, currency: str = "USD") -> list[Slide]:
    """The quarterly deck's native slides, in a fixed order, from the review's section results.

    Parameters
    ----------
    sections
        Section key -> section result. Keys (any subset): ``bridge`` (``bridge_section``),
        ``retention`` (``retention_rates``), ``at_risk`` (``at_risk_two_ways``), ``backtest``
        (``at_risk_backtest``), ``segments`` (``segment_scorecard``), ``focus``
        (``focus_accounts``), ``programme`` (``executive_programme``), ``callbacks``
        (``callbacks_and_churn``), ``capacity`` (``csm_capacity``) and ``retention_value``
        (:func:`feedback_lib.retention_scenario`). Each result has ``takeaway`` and
        ``metrics()``; ``retention_value`` its ``to_frame()`` and gain fields.
    currency
        Currency shown with every money amount.

    Returns
    -------
    list of Slide
        Add them with ``deck.add_slides(...)``. Every title carries its number, every rate its
        n and interval in the caption; the section's takeaway is the speaker note.
    """
    unknown = sorted(set(sections) - set(QUARTERLY_SECTIONS))
    if unknown:
        raise ReportError(f"quarterly_slides: unknown section keys {unknown}; known: {list(QUARTERLY_SECTIONS)}")
    slides: list[Slide] = []
    for key, build in QUARTERLY_SECTIONS.items():
        if sections.get(key) is not None:
            slides.extend(build(sections[key], currency))
    return slides


def quarterly_kpis(sections: Mapping[str, Any], *, currency: str = "USD", nps: Any = None) -> list[Kpi]:
    """Headline numbers for the KPI slide, each rate with its interval and n.

    ``sections`` as in :func:`quarterly_slides` (``bridge``, ``retention``, ``at_risk``,
    ``backtest`` are used when present); ``nps`` an :class:`~feedback_lib.NPSResult` of the quarter.
    """
    out: list[Kpi] = []
    if sections.get("bridge") is not None:
        q = sections["bridge"].metrics()["bridge_quarter"]
        growth = q["closing_arr"] / q["opening_arr"] - 1 if q["opening_arr"] else math.nan
        out.append(Kpi("ARR", _money(q["closing_arr"], currency),
                       f"{growth:+.1%} in the quarter" if math.isfinite(growth) else "no opening ARR"))
    if sections.get("retention") is not None:
        m = sections["retention"].metrics()
        for key, label in (("nrr", "NRR"), ("grr", "GRR"), ("logo_retention", "Logo retention")):
            r = m[key]
            detail = _interval(r).split(" (", 1)[1].rstrip(")") if _none(r["value"]) is not None else f"n = {r['n']}"
            out.append(Kpi(label, _pct(r["value"]), detail))
    if nps is not None:
        out.append(Kpi("NPS", f"{nps.score:+.0f}", f"{nps.ci_low:+.0f} to {nps.ci_high:+.0f}, n = {nps.n:,}"))
    if sections.get("at_risk") is not None:
        m = sections["at_risk"].metrics()
        out.append(Kpi("MRR at risk", _money(m.get("mrr_at_risk_mrr"), currency),
                       f"next {m.get('horizon_months')} months, {int(m.get('accounts') or 0):,} accounts"))
    if sections.get("backtest") is not None and sections["backtest"].metrics().get("available"):
        m = sections["backtest"].metrics()
        out.append(Kpi("Risk model concordance", f"{m['concordance']:.2f}",
                       f"{m['ci_low']:.2f} to {m['ci_high']:.2f}, n = {int(m['n']):,}"))
    return out[:8]


def nps_segment_slide(by_segment: pd.DataFrame, company: pd.DataFrame, *, segment_col: str = "segment",
                      periods: int = 4) -> Slide:
    """NPS per segment and for the company, one line each, over the last ``periods`` periods.

    ``by_segment`` and ``company`` are :func:`feedback_lib.nps_table` results (``by=segment_col``
    and no grouping); the company line carries its interval and n in the caption.
    """
    comp = company.dropna(subset=["nps"]).tail(periods)
    if comp.empty:
        raise ReportError("nps_segment_slide: the company NPS table has no period with responses")
    cats = [str(pd.Timestamp(p).to_period("Q")) for p in comp["period"]]
    series = [{"name": "Company", "values": [float(v) for v in comp["nps"]]}]
    for seg, rows in by_segment.groupby(segment_col, sort=True):
        rows = rows.set_index("period").reindex(comp["period"])
        series.append({"name": str(seg), "values": [_none(v) for v in rows["nps"]]})
    last = comp.iloc[-1]
    chart = ChartData(kind="line", categories=cats, series=series, number_format="0", y_title="NPS (points)")
    title = f"NPS {last['nps']:+.0f} this quarter ({last['ci_low']:+.0f} to {last['ci_high']:+.0f}, n = {int(last['n']):,})"
    return Slide.native(chart, section="NPS", title=title, notes="Adjusted-Wald interval; segments as lines.",
                        caption=f"Company line: n = {int(last['n']):,} responses this quarter")


def untitled_takeaways(slides: list[Slide]) -> list[str]:
    """Titles of takeaway slides without a digit (a takeaway states its number)."""
    return [s.title for s in slides if not any(ch.isdigit() for ch in s.title)]
