#!/usr/bin/env python3
"""release_check.py - recomputes a release's latest.csv independently of ncap's C code.

Usage: release_check.py [--json latest.json] [--spc spc.csv] latest.csv

From each row's numerator and denominator alone (Python's standard library, nothing shared with
the C code), it recomputes and compares, within 1e-6 (the CSV prints 6 decimal places):
  - value and the Wilson score intervals at 95% and 99.8%, from the formula;
  - the England value of every row, and compared_to_england (better/similar/worse with a
    polarity, higher/similar/lower without; empty for England's rows);
  - for trust and site rows (breakdown all): the funnel limits at 95% and 99.8% around England's
    value, exact binomial quantiles from the binomial distribution summed term by term (log
    probabilities from math.lgamma), interpolated as Spiegelhalter (2005) appendix A.1; widened
    for overdispersion (multiplicative or additive, the metric's setting) with phi and tau2
    estimated over the trusts whose figures are published (a suppressed trust left out) as
    Spiegelhalter et al. (2012): z-scores on the arcsine square root scale, Winsorised at the trim
    quantiles (R's type 7); and the outlier flag; phi, tau2 and the number of trusts latest.json
    states must be those recomputed;
  - the sums: every trust the sum of its sites, region of its trusts, England of its regions (in
    every breakdown category too, where the level below publishes it), and at England and region
    level each breakdown's categories summing to the all row (at trust level to no more);
  - disclosure: no shown count within 1..min_count-1 (of the numerator or its complement), and a
    suppressed row shows no numerator, value, interval, comparison, limit or flag.
Suppressed numerators are left out of what needs them. For an audit with an outlier process
(latest.json's provenance.outlier_process), a trust's or site's all row shows its 99.8% limits only
with an alarm, and where the recomputed flag is an alarm the row may show the alert of its direction
instead (its case not published yet; README.md, "Outlier cases").

Ratio metrics (latest.json kind "ratio"): value observed / expected, exact Poisson limits below 10
observed (found by bisection on the Poisson probabilities summed term by term) and Byar's formula
from 10, divided by the expected; funnel limits around 1 from Poisson quantiles (Spiegelhalter
(2005) A.1) or, adjusted, on the log scale with phi and tau2 from log(O/E) z-scores truncated at
10% each end; the observed count as the numerator for disclosure. Median and mean metrics: no
numerator, no funnel, a value inside its intervals, the comparison with England by the published
interval, and no shown value of fewer than min_count records. Every row: the notes
missing_risk_inputs and follow_up_incomplete exactly where missing and held are above 0, and held,
missing (and a ratio's expected, within rounding) summing between levels like the counts.

The selection ledger (rejected, left_out, bound_lower, bound_upper, and withheld_opt_out last):
empty on the SII row and on a suppressed row; elsewhere rejected and withheld_opt_out counts (0 on a
breakdown category's row), summing between levels like held and missing (on breakdown all rows),
left_out exactly rejected + held + missing + withheld_opt_out, and for a proportion
with its numerator shown the bounds recomputed from the counts: bound_lower numerator /
(denominator + left_out), bound_upper (numerator + left_out) / (denominator + left_out); for a
ratio the same with the expected count E' = expected x (denominator + left_out) / denominator; for
a median bounds present when fewer than half of all are left out (the value itself when none is),
not recomputable without the values; the value between them; empty bounds for means.

With --spc (spc.csv; spc_summary.csv beside it), the run charts too: each unit's points recomputed
with the Making Data Count rules (mean, moving ranges screened at 3.267 x their mean, limits mean
-+ 2.66 x the mean moving range, outside_limits, trend, two_in_three, shift, point types from the
metric's polarity, the summary's variation and assurance from its target), the value from the
counts for proportions, and no shown count under min_count.

The metrics' polarity and overdispersion, and min_count, come from latest.json (beside the CSV
unless --json says). Exit 0 when everything agrees; otherwise each disagreement is printed and the
exit status is 1 (2 for unusable input).
"""

import argparse
import csv
import json
import math
import os
import sys

Z95 = 1.9599639845400542  # Phi^-1(0.975)
Z998 = 3.0902323061678136  # Phi^-1(0.999)
TOL = 1e-6
EDGE = 1e-9  # a value this close to a limit or reference may fall either side

COLUMNS = ("audit,period,level,area_code,area_name,parent_code,metric,breakdown,category,"
           "numerator,denominator,value,lower95,upper95,lower998,upper998,england_value,"
           "compared_to_england,funnel_lower95,funnel_upper95,funnel_lower998,funnel_upper998,"
           "outlier,note,expected,held,missing,rejected,left_out,bound_lower,bound_upper,"
           "withheld_opt_out").split(",")
LEDGER = ("rejected", "left_out", "bound_lower", "bound_upper", "withheld_opt_out")
FIGURES = ("value", "lower95", "upper95", "lower998", "upper998")
FUNNEL = ("funnel_lower95", "funnel_upper95", "funnel_lower998", "funnel_upper998")
LEVELS = ("england", "region", "trust", "site")
CHILD = {"england": "region", "region": "trust", "trust": "site"}
ENGLAND = "E92000001"


LIMITS998 = ("lower998", "upper998", "funnel_lower998", "funnel_upper998")


class Checker:
    def __init__(self, rows, metrics, min_count, trim, gated=False):
        self.rows = rows
        self.metrics = metrics
        self.min_count = min_count
        self.trim = trim
        # an audit with an outlier process (latest.json provenance.outlier_process): a trust's or
        # site's all row shows an alarm and its 99.8% limits only once its case is published
        self.gated = gated
        self.errors = []
        self.checked = {"wilson": 0, "funnel": 0, "sums": 0, "ratio": 0, "continuous": 0,
                        "ledger": 0}

    def kind(self, row):
        return self.metrics[row["metric"]].get("kind", "proportion")

    def error(self, row, what):
        where = "row %d (%s %s %s %s %s)" % (row["_line"], row["metric"], row["level"],
                                             row["area_code"], row["breakdown"], row["category"])
        self.errors.append("%s: %s" % (where, what))

    def held(self, row):
        """Whether the outlier process holds the row's 99.8% limits back (all but a published
        alarm's, on a trust's or site's all row)."""
        return (self.gated and row["level"] in ("trust", "site") and row["breakdown"] == "all"
                and not row["outlier"].startswith("alarm"))

    def near(self, row, field, want):
        if field in LIMITS998 and self.held(row):
            self.empty(row, (field,), "held back until an alarm is published")
            return
        got = num(row[field])
        if got is None:
            self.error(row, "%s is empty, recomputed %.9f" % (field, want))
        elif abs(got - want) > TOL:
            self.error(row, "%s is %s, recomputed %.9f" % (field, row[field], want))

    def empty(self, row, fields, why):
        for f in fields:
            if row[f] != "":
                self.error(row, "%s is %r, expected empty (%s)" % (f, row[f], why))

    # ---- each row on its own ----

    def check_notes(self, row):
        notes = row["note"].split(";") if row["note"] else []
        for col, note in (("missing", "missing_risk_inputs"), ("held", "follow_up_incomplete")):
            n = count(row[col])
            if n is None:
                self.error(row, "%s %r, expected a count" % (col, row[col]))
            elif (n > 0) != (note in notes):
                self.error(row, "%s %d but note %r" % (col, n, row["note"]))

    def check_ledger(self, row):
        if row["breakdown"] == "sii" or suppressed(row):
            self.empty(row, LEDGER, "the SII row" if row["breakdown"] == "sii"
                       else "a suppressed row's ledger is suppressed too")
            return
        rejected, held, missing, withheld = (
            count(row[c]) for c in ("rejected", "held", "missing", "withheld_opt_out"))
        left_out, den = count(row["left_out"]), count(row["denominator"])
        if None in (rejected, held, missing, withheld, left_out, den):
            self.error(row, "rejected %r, held %r, missing %r, withheld_opt_out %r, left_out %r, "
                       "denominator %r: expected counts"
                       % (row["rejected"], row["held"], row["missing"], row["withheld_opt_out"],
                          row["left_out"], row["denominator"]))
            return
        if row["breakdown"] != "all" and (rejected != 0 or withheld != 0):
            self.error(row, "rejected %d, withheld_opt_out %d on a category's row, expected 0"
                       % (rejected, withheld))
        if left_out != rejected + held + missing + withheld:
            self.error(row, "left_out %d, expected rejected + held + missing + withheld_opt_out"
                       " = %d" % (left_out, rejected + held + missing + withheld))
        n, total, kind = count(row["numerator"]), den + left_out, self.kind(row)
        expected = num(row["expected"])
        v = num(row["value"])
        if kind == "median" and v is not None and row["bound_lower"] != "":
            # not recomputable from the published counts (the values are not published): the
            # value between them, and they are the value when nothing is left out
            lo, hi = num(row["bound_lower"]), num(row["bound_upper"])
            if None in (lo, hi) or (left_out == 0 and not (lo == hi == v)):
                self.error(row, "median bounds %r %r with %d left out, value %r"
                           % (row["bound_lower"], row["bound_upper"], left_out, row["value"]))
                return
        elif kind == "proportion" and n is not None and total > 0:
            lo, hi = n / total, (n + left_out) / total
        elif kind == "ratio" and n is not None and den > 0 and expected:
            e = expected * total / den  # each one left out with the mean expected value
            lo, hi = n / e, (n + left_out) / e
        else:
            if kind == "median" and v is not None and 2 * left_out < total:
                self.error(row, "a median with %d of %d records left out has no bounds"
                           % (left_out, total))
            self.empty(row, ("bound_lower", "bound_upper"), "no bounds for this row")
            return
        self.near(row, "bound_lower", lo)
        self.near(row, "bound_upper", hi)
        if v is not None and not (lo - TOL <= v <= hi + TOL):
            self.error(row, "value %s outside its bounds [%.6f, %.6f]" % (row["value"], lo, hi))
        self.checked["ledger"] += 1

    def check_row(self, row, england):
        self.check_ledger(row)
        sup = suppressed(row)
        den = count(row["denominator"])
        kind = self.kind(row)
        if row["breakdown"] == "sii":
            if row["level"] != "england":
                self.error(row, "an SII row below England level")
            if kind != "proportion":
                self.error(row, "an SII row of a %s" % kind)
            self.empty(row, ("numerator", "denominator") + FUNNEL + ("outlier",), "an SII row")
            return
        if den is None:
            self.error(row, "denominator %r, expected a count" % row["denominator"])
            return
        self.check_notes(row)
        if kind != "ratio":
            self.empty(row, ("expected",), "not a ratio")
        if kind in ("median", "mean"):
            self.check_continuous(row, den, sup, england)
            return
        if sup:
            self.empty(row, ("numerator",) + FIGURES + FUNNEL +
                       ("outlier", "compared_to_england"), "suppressed")
            return
        n = count(row["numerator"])
        if n is None or (n > den and kind == "proportion"):
            self.error(row, "numerator %r, expected a count of at most %d" % (row["numerator"],
                                                                            den))
            return
        if self.min_count > 1 and (0 < n < self.min_count or 0 < den - n < self.min_count):
            self.error(row, "%d of %d shown, under min_count %d" % (n, den, self.min_count))
        if kind == "ratio":
            self.check_ratio(row, n, england)
            return
        if den == 0:
            self.empty(row, FIGURES + ("compared_to_england",), "no denominator")
        else:
            v = n / den
            lo95, hi95 = wilson(n, den, Z95)
            lo998, hi998 = wilson(n, den, Z998)
            for f, want in zip(FIGURES, (v, lo95, hi95, lo998, hi998)):
                self.near(row, f, want)
            self.checked["wilson"] += 1
        self.check_england(row, england, wilson(n, den, Z95) if den > 0 else None)

    def check_ratio(self, row, o, england):
        e = num(row["expected"])
        if e is None:
            self.error(row, "expected %r, expected a number" % row["expected"])
            return
        if e <= 0:
            self.empty(row, FIGURES + ("compared_to_england",), "no expected count")
            interval = None
        else:
            interval = ratio_interval(o, e, Z95)
            lo998, hi998 = ratio_interval(o, e, Z998)
            for f, want in zip(FIGURES, (o / e,) + interval + (lo998, hi998)):
                self.near(row, f, want)
            self.checked["ratio"] += 1
        self.check_england(row, england, interval)

    def check_continuous(self, row, den, sup, england):
        self.empty(row, ("numerator",) + FUNNEL + ("outlier",), "a median or mean")
        if sup:
            self.empty(row, FIGURES + ("compared_to_england",), "suppressed")
            return
        if self.min_count > 1 and 0 < den < self.min_count:
            self.error(row, "a value of %d records shown, under min_count %d" %
                       (den, self.min_count))
        if den == 0:
            self.empty(row, FIGURES + ("compared_to_england",), "no records")
            return
        if self.held(row):
            self.empty(row, ("lower998", "upper998"), "held back until an alarm is published")
        v, lo, hi, lo2, hi2 = (num(row[f]) for f in FIGURES)
        if v is None:
            self.error(row, "value is empty, expected the %s of %d records" % (self.kind(row), den))
            return
        for a, b, what in ((lo, v, "lower95"), (v, hi, "upper95"), (lo2, lo, "lower998"),
                           (hi, hi2, "upper998")):
            if a is not None and b is not None and a > b + TOL:
                self.error(row, "%s out of order: %s > %s" % (what, a, b))
        self.checked["continuous"] += 1
        self.check_england(row, england, (lo, hi) if lo is not None and hi is not None else None)

    def check_england(self, row, england, interval):
        """England's value and the comparison of the row's 95% interval with it."""
        if england is None:
            self.empty(row, ("england_value", "compared_to_england") + FUNNEL + ("outlier",),
                       "England's value not published")
            return
        self.near(row, "england_value", england)
        want = ""
        if row["level"] != "england" and interval is not None:
            want = compare(interval, england, self.metrics[row["metric"]]["polarity"])
        if want is None:
            return  # on the edge: either answer is right
        if row["compared_to_england"] != want:
            self.error(row, "compared_to_england %r, recomputed %r" %
                       (row["compared_to_england"], want))

    # ---- funnels ----

    def check_funnels(self, metric, england):
        kind = self.metrics[metric].get("kind", "proportion")
        if kind in ("median", "mean"):
            return  # check_continuous: no funnel
        if kind == "ratio":
            england = 1.0 if england is not None else None  # around 1, England's value published
        rows = [r for r in self.rows if r["metric"] == metric and r["breakdown"] == "all"]
        # phi and tau2 over the trusts whose figures are published: never a suppressed one
        trusts = [r for r in rows if r["level"] == "trust" and count(r["denominator"]) and
                  not suppressed(r)]
        units = [r for r in rows if r["level"] in ("trust", "site")]
        unit_ids = set(id(r) for r in units)
        others = [r for r in self.rows if r["metric"] == metric and id(r) not in unit_ids]
        for r in others:
            self.empty(r, FUNNEL + ("outlier",), "funnel limits are for trust and site rows")
        if england is None:
            return
        od = self.metrics[metric]["overdispersion"]
        if kind == "ratio":
            trusts = [r for r in trusts if (num(r["expected"]) or 0) > 0]
            phi, tau2 = dispersion_log([(count(r["numerator"]), num(r["expected"]))
                                        for r in trusts], self.trim)
        else:
            phi, tau2 = dispersion([(count(r["numerator"]), count(r["denominator"]))
                                    for r in trusts], england, self.trim)
        self.check_stated(metric, phi, tau2, len(trusts))
        adjust = od != "none" and phi is not None and phi > 1
        for r in units:
            den = count(r["denominator"])
            if kind == "ratio":
                den = num(r["expected"]) or 0
            if suppressed(r) or not den:
                self.empty(r, FUNNEL + ("outlier",), "suppressed or no denominator")
                continue
            n = count(r["numerator"])
            if kind == "ratio":
                lims = ratio_funnel_limits(den, od if adjust else "none", phi, tau2)
            else:
                lims = funnel_limits(den, england, od if adjust else "none", phi, tau2)
            for f, want in zip(FUNNEL, lims):
                self.near(r, f, want)
            flag = classify(n / den, lims)
            if flag is not None and flag.startswith("alarm") and self.held(r):
                flag = flag.replace("alarm", "alert")  # its case not published yet
            if flag is not None and r["outlier"] != flag:
                self.error(r, "outlier %r, recomputed %r" % (r["outlier"], flag))
            self.checked["funnel"] += 1

    def check_stated(self, metric, phi, tau2, trusts):
        """latest.json's funnel of the metric against the recomputed phi, tau2 and trusts."""
        stated = self.metrics[metric].get("funnel")
        where = "latest.json metric %s funnel: " % metric
        if not stated:
            self.errors.append(where + "none stated, though England's value is published")
            return
        if stated.get("trusts") != trusts:
            self.errors.append(where + "trusts %r, recomputed %d (the published trusts with a "
                               "denominator)" % (stated.get("trusts"), trusts))
        if (stated.get("phi") is None) != (phi is None) or (
                phi is not None and abs(stated["phi"] - phi) > 1e-9 * max(1, abs(phi))):
            self.errors.append(where + "phi %r, recomputed %r" % (stated.get("phi"), phi))
        if abs((stated.get("tau2") or 0) - tau2) > 1e-9 * max(1e-6, abs(tau2)):
            self.errors.append(where + "tau2 %r, recomputed %r" % (stated.get("tau2"), tau2))

    # ---- sums ----

    def check_sums(self):
        by_key = {}
        for r in self.rows:
            if r["breakdown"] != "sii":
                by_key[(r["metric"], r["level"], r["area_code"], r["breakdown"],
                        r["category"])] = r
        children = {}
        for r in self.rows:
            if r["breakdown"] != "sii" and r["level"] != "england":
                parent = PARENT[r["level"]]
                key = (r["metric"], parent, r["parent_code"], r["breakdown"], r["category"])
                if (r["metric"], parent, r["parent_code"], "all", "") not in by_key:
                    self.error(r, "parent %s %s has no row" % (parent, r["parent_code"]))
                children.setdefault(key, []).append(r)
        for key, p in by_key.items():
            metric, level, code, breakdown, category = key
            # the level below, same breakdown and category
            kids = children.get(key, [])
            if level != "site" and kids:
                exact = breakdown == "all" or level == "england"
                self.sum_check(p, kids, exact, "its %ss" % CHILD[level])
            # the categories of each breakdown, under the all row
            if breakdown == "all" and level != "site":
                for b in ("imd_quintile", "ethnicity", "sex", "age"):
                    rows = self.categories.get((metric, level, code, b), [])
                    if rows:
                        self.sum_check(p, rows, level != "trust", "its %s categories" % b,
                                       ("held", "missing"))

    def sum_check(self, parent, kids, exact, what,
                  cols=("held", "missing", "rejected", "withheld_opt_out")):
        dens = [count(k["denominator"]) for k in kids]
        nums = [count(k["numerator"]) for k in kids]
        pden, pnum = count(parent["denominator"]), count(parent["numerator"])
        sden = sum(d for d in dens if d is not None)
        if (exact and sden != pden) or (not exact and sden > pden):
            self.error(parent, "denominator %s, %s sum to %d" % (pden, what, sden))
        for col in cols:
            got, parts = count(parent[col]), [count(k[col]) for k in kids]
            if got is not None and None not in parts and (
                    (exact and sum(parts) != got) or (not exact and sum(parts) > got)):
                self.error(parent, "%s %s, %s sum to %d" % (col, got, what, sum(parts)))
        pe, es = num(parent["expected"]), [num(k["expected"]) for k in kids]
        if exact and pe is not None and None not in es and \
                abs(math.fsum(es) - pe) > 1e-6 * (len(es) + 1):
            self.error(parent, "expected %s, %s sum to %.6f" % (pe, what, math.fsum(es)))
        if pnum is not None and all(n is not None for n in nums):
            snum = sum(nums)
            if (exact and snum != pnum) or (not exact and snum > pnum):
                self.error(parent, "numerator %s, %s sum to %d" % (pnum, what, snum))
        self.checked["sums"] += 1

    def run(self):
        self.categories = {}
        for r in self.rows:
            if r["breakdown"] not in ("all", "sii"):
                self.categories.setdefault((r["metric"], r["level"], r["area_code"],
                                            r["breakdown"]), []).append(r)
        englands = {}
        for r in self.rows:
            if r["metric"] not in self.metrics:
                self.error(r, "metric %r is not in latest.json" % r["metric"])
                return
            if r["level"] not in LEVELS:
                self.error(r, "level %r" % r["level"])
                return
            if r["level"] == "england" and r["breakdown"] == "all":
                n, d = count(r["numerator"]), count(r["denominator"])
                kind = self.kind(r)
                if kind == "ratio":
                    e = num(r["expected"])
                    englands[r["metric"]] = n / e if n is not None and e else None
                elif kind in ("median", "mean"):
                    englands[r["metric"]] = None if suppressed(r) else num(r["value"])
                else:
                    englands[r["metric"]] = n / d if n is not None and d else None
        for r in self.rows:
            self.check_row(r, englands.get(r["metric"]))
        for metric in self.metrics:
            self.check_funnels(metric, englands.get(metric))
        self.check_sums()


PARENT = {"region": "england", "trust": "region", "site": "trust"}

SPC_COLUMNS = ("audit,metric,level,area_code,month,numerator,denominator,value,mean,lpl,upl,"
               "special_cause,point_type").split(",")
SPC_SUMMARY_COLUMNS = "audit,metric,level,area_code,mean,lpl,upl,n,variation,assurance".split(",")


def xmr(y, improvement, tol):
    """Making Data Count on values y: (mean, lpl, upl, has_limits, [(cause, type)], ties) where
    ties says a value sits within tol of the mean, a limit, a near limit or its neighbour, so that
    values rounded to 6 places may fall either side."""
    n = len(y)
    mean = math.fsum(y) / n
    mrs = [abs(y[i] - y[i - 1]) for i in range(1, n)]
    has_limits = bool(mrs)
    amr = math.fsum(mrs) / len(mrs) if mrs else 0.0
    if amr > 0:
        kept = [m for m in mrs if m < 3.267 * amr]
        amr = math.fsum(kept) / len(kept) if kept else 0.0
    lpl, upl = mean - 2.66 * amr, mean + 2.66 * amr
    nlpl, nupl = mean - 2 * (2.66 / 3) * amr, mean + 2 * (2.66 / 3) * amr
    edges = [mean] + ([lpl, upl, nlpl, nupl] if has_limits else [])
    ties = any(abs(v - e) < tol for v in y for e in edges) or any(m < tol for m in mrs)

    def sign(d):
        return (d > 0) - (d < 0)

    def kind(direction):
        if improvement == "neutral":
            return "special_cause_neutral_high" if direction > 0 else "special_cause_neutral_low"
        if improvement == "decrease":
            direction = -direction
        return "special_cause_improvement" if direction > 0 else "special_cause_concern"

    pts = [("", "common_cause")] * n
    run = 0
    for i in range(n):
        side = sign(y[i] - mean)
        run = run + 1 if side != 0 and i > 0 and side == sign(y[i - 1] - mean) else int(side != 0)
        if run >= 7:
            for j in range(i - 6, i + 1):
                pts[j] = ("shift", kind(side))
    if has_limits:
        for i in range(n - 2):
            side = sign(y[i] - mean)
            if side == 0 or sign(y[i + 1] - mean) != side or sign(y[i + 2] - mean) != side:
                continue
            near = [lpl <= v <= upl and (v < nlpl or v > nupl) for v in y[i:i + 3]]
            if sum(near) >= 2:
                for k in range(3):
                    if near[k]:
                        pts[i + k] = ("two_in_three", kind(side))
    run = 0
    for i in range(1, n):
        d = sign(y[i] - y[i - 1])
        run = run + 1 if d != 0 and i > 1 and d == sign(y[i - 1] - y[i - 2]) else int(d != 0)
        if run >= 6:
            for j in range(i - 6, i + 1):
                pts[j] = ("trend", kind(d))
    if has_limits:
        for i in range(n):
            if y[i] > upl or y[i] < lpl:
                pts[i] = ("outside_limits", kind(1 if y[i] > mean else -1))
    return mean, lpl, upl, has_limits, pts, ties


def check_spc(path, metrics, min_count):
    """The run charts of spc.csv (and spc_summary.csv beside it) recomputed; errors."""
    errors, summary_path = [], os.path.join(os.path.dirname(path) or ".", "spc_summary.csv")
    tables = []
    for p, cols in ((path, SPC_COLUMNS), (summary_path, SPC_SUMMARY_COLUMNS)):
        with open(p, newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))
        if not rows or rows[0] != cols:
            return ["%s: header %r, expected %s" % (p, rows[0] if rows else None, ",".join(cols))]
        tables.append([dict(zip(cols, r), _line=i) for i, r in enumerate(rows[1:], start=2)])
    series = {}
    for r in tables[0]:
        series.setdefault((r["metric"], r["level"], r["area_code"]), []).append(r)
    summaries = {(r["metric"], r["level"], r["area_code"]): r for r in tables[1]}
    improvement = {"higher_is_better": "increase", "lower_is_better": "decrease"}
    checked = 0
    for key, rows in series.items():
        where = "spc.csv %s %s %s" % key
        m = metrics.get(key[0])
        if m is None:
            errors.append("%s: metric not in latest.json" % where)
            continue
        months = [r["month"] for r in rows]
        if months != sorted(months) or len(set(months)) != len(months):
            errors.append("%s: months out of order" % where)
        y, shown = [], []
        for r in rows:
            n, d = count(r["numerator"]), count(r["denominator"])
            if d is None:
                errors.append("%s %s: denominator %r" % (where, r["month"], r["denominator"]))
                continue
            if n is not None and min_count > 1 and (0 < n < min_count or
                                                   0 < d - n < min_count):
                errors.append("%s %s: %d of %d shown, under min_count %d" %
                              (where, r["month"], n, d, min_count))
            if m.get("kind", "proportion") in ("median", "mean") and min_count > 1 and \
                    r["value"] and 0 < d < min_count:
                errors.append("%s %s: a value of %d records shown" % (where, r["month"], d))
            if r["value"] == "":  # hidden, or nothing to divide by: not charted
                for f in ("mean", "lpl", "upl", "special_cause", "point_type"):
                    if r[f]:
                        errors.append("%s %s: %s %r without a value" %
                                      (where, r["month"], f, r[f]))
                continue
            v = num(r["value"])
            if m.get("kind", "proportion") == "proportion" and n is not None and d:
                if abs(v - n / d) > TOL:
                    errors.append("%s %s: value %s, %d / %d" % (where, r["month"], v, n, d))
                v = n / d
            y.append(v)
            shown.append(r)
        summary = summaries.get(key)
        if summary is None:
            errors.append("%s: no line in spc_summary.csv" % where)
            continue
        if count(summary["n"]) != len(y):
            errors.append("%s: summary n %s, %d months charted" % (where, summary["n"], len(y)))
        if not y:
            continue
        # values of a ratio, median or mean are read as printed (6 places): the limits, 2.66
        # mean moving ranges out, carry up to about 3e-6 of their rounding
        tol = TOL if m.get("kind", "proportion") == "proportion" else 5e-6
        mean, lpl, upl, has_limits, pts, ties = xmr(y, improvement.get(m["polarity"], "neutral"),
                                                    tol)
        for r, (cause, kind) in zip(shown, pts):
            for f, want in (("mean", mean), ("lpl", lpl if has_limits else None),
                            ("upl", upl if has_limits else None)):
                got = num(r[f])
                if (got is None) != (want is None) or (want is not None and
                                                       abs(got - want) > tol):
                    errors.append("%s %s: %s %r, recomputed %r" % (where, r["month"], f, r[f],
                                                                   want))
            if not ties and (r["special_cause"], r["point_type"]) != (cause, kind):
                errors.append("%s %s: %s %s, recomputed %s %s" %
                              (where, r["month"], r["special_cause"], r["point_type"], cause,
                               kind))
        want_assurance = ""
        target = m.get("target")
        imp = improvement.get(m["polarity"], "neutral")
        if target is not None and imp != "neutral" and has_limits:
            if target > upl:
                want_assurance = "consistent_fail" if imp == "increase" else "consistent_pass"
            elif target < lpl:
                want_assurance = "consistent_pass" if imp == "increase" else "consistent_fail"
            else:
                want_assurance = "inconsistent"
        if not ties and (summary["variation"], summary["assurance"]) != (pts[-1][1],
                                                                         want_assurance):
            errors.append("spc_summary.csv %s %s %s: %s %s, recomputed %s %s" %
                          (key + (summary["variation"], summary["assurance"], pts[-1][1],
                                  want_assurance)))
        checked += 1
    return errors, checked


def suppressed(row):
    return "suppressed" in row["note"].split(";")


def num(s):
    try:
        return float(s) if s != "" else None
    except ValueError:
        return None


def count(s):
    return int(s) if s is not None and s.isdigit() else None


def wilson(x, n, z):
    root = z * math.sqrt(z * z + 4 * x * (1 - x / n))
    return ((2 * x + z * z - root) / (2 * (n + z * z)), (2 * x + z * z + root) / (2 * (n + z * z)))


def compare(interval, ref, polarity):
    lo, hi = interval
    if abs(lo - ref) < EDGE or abs(hi - ref) < EDGE:
        return None
    d = 1 if lo > ref else -1 if hi < ref else 0
    if d == 0:
        return "similar"
    if polarity == "lower_is_better":
        d = -d
    if polarity == "none":
        return "higher" if d > 0 else "lower"
    return "better" if d > 0 else "worse"


def pois_cdf(k, mu):
    """P(X <= k), X ~ Poisson(mu), summed term by term in logs."""
    if k < 0:
        return 0.0
    if mu <= 0:
        return 1.0
    lmu = math.log(mu)
    return min(1.0, math.fsum(math.exp(i * lmu - mu - math.lgamma(i + 1)) for i in range(k + 1)))


def bisect(f, lo, hi):
    """x in [lo, hi] with f(x) = 0, f decreasing."""
    for _ in range(200):
        mid = (lo + hi) / 2
        if f(mid) > 0:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def count_interval(o, z):
    """Exact Poisson limits for o < 10 (each tail P(Z > z)), Byar's approximation from 10."""
    tail = 0.5 * math.erfc(z / math.sqrt(2))
    if o >= 10:
        lo = o * (1 - 1 / (9 * o) - z / (3 * math.sqrt(o))) ** 3
        hi = (o + 1) * (1 - 1 / (9 * (o + 1)) + z / (3 * math.sqrt(o + 1))) ** 3
        return lo, hi
    lo = 0.0 if o == 0 else bisect(lambda m: (1 - pois_cdf(o - 1, m)) - tail, 100.0, 0.0)
    hi = bisect(lambda m: pois_cdf(o, m) - tail, 0.0, 100.0)
    return lo, hi


def ratio_interval(o, e, z):
    lo, hi = count_interval(o, z)
    return lo / e, hi / e


def pois_quantiles(mu, ps):
    """As binom_quantiles, for Poisson(mu)."""
    sd = math.sqrt(mu)
    lo, hi = max(0, int(mu - 12 * sd) - 30), int(mu + 12 * sd) + 30
    lmu = math.log(mu)
    return window_quantiles(lo, [math.exp(k * lmu - mu - math.lgamma(k + 1))
                                 for k in range(lo, hi + 1)], ps)


def ratio_funnel_limits(e, od, phi, tau2):
    """lower95, upper95, lower998, upper998 around 1 for an expected count e."""
    order = (0.025, 0.975, 0.001, 0.999)
    zs = (-Z95, Z95, -Z998, Z998)
    if od == "none":
        return [max(0.0, exact_limit(r, excess, pr, e)) for r, excess, pr in
                pois_quantiles(e, order)]
    s = 1 / math.sqrt(e)
    sd = math.sqrt(phi) * s if od == "multiplicative" else math.sqrt(s * s + tau2)
    return [math.exp(z * sd) for z in zs]


def dispersion_log(units, trim):
    """phi and tau2 of ratios (observed, expected > 0) around 1: z = log(O/E) sqrt(E), weights
    E, floor(trim n) truncated at each end, a z that is not finite left out."""
    zs = sorted(((math.log(o / e) if o > 0 else -math.inf) * math.sqrt(e), e) for o, e in units)
    if not zs:
        return None, 0.0
    n = len(zs)
    k = int(math.floor(trim * n + 1e-9))
    k = k if 0 < k <= n / 2 else 0
    kept = [(z, w) for z, w in zs[k:n - k] if math.isfinite(z)]
    if not kept:
        return None, 0.0
    m = len(kept)
    phi = math.fsum(z * z for z, _ in kept) / m
    sw, sw2 = math.fsum(w for _, w in kept), math.fsum(w * w for _, w in kept)
    denom = sw - sw2 / sw
    tau2 = max(0.0, (m * phi - (m - 1)) / denom) if phi > 1 and m > 1 and denom > 0 else 0.0
    return phi, tau2


def binom_quantiles(n, theta, ps):
    """For each p: (r, P(X <= r) - p, P(X = r)), r the smallest with P(X <= r) >= p, summing
    the binomial's probabilities term by term over every count that carries any (upper tails
    summed from the top, so that P(X <= r) - p keeps its digits near 1)."""
    if theta <= 0 or theta >= 1:
        r = n if theta >= 1 else 0
        return [(r, 1.0 - p, 1.0) for p in ps]
    mu, sd = n * theta, math.sqrt(n * theta * (1 - theta))
    lo, hi = max(0, int(mu - 12 * sd) - 30), min(n, int(mu + 12 * sd) + 30)
    base = math.lgamma(n + 1)
    lt, l1t = math.log(theta), math.log1p(-theta)
    pmf = [math.exp(base - math.lgamma(k + 1) - math.lgamma(n - k + 1) + k * lt + (n - k) * l1t)
           for k in range(lo, hi + 1)]
    return window_quantiles(lo, pmf, ps)


def window_quantiles(lo, pmf, ps):
    """binom_quantiles' answer from the probabilities pmf of lo, lo + 1, ... (normalised here)."""
    total = math.fsum(pmf)
    pmf = [x / total for x in pmf]
    out = []
    for p in ps:
        if p < 0.5:  # from below: F(k) summed up from lo
            f = 0.0
            for i, x in enumerate(pmf):
                f += x
                if f >= p:
                    out.append((lo + i, f - p, x))
                    break
        else:  # from above: F(k) = 1 - S(k), S(k) = P(X > k) summed down from hi
            s = 0.0
            i = len(pmf) - 1
            while i > 0 and s + pmf[i] <= 1 - p:
                s += pmf[i]
                i -= 1
            out.append((lo + i, (1 - p) - s, pmf[i]))
    return out


def exact_limit(r, excess, pmf_r, n):
    """Spiegelhalter (2005) A.1: alpha = (F(r) - p) / (F(r) - F(r - 1)), limit (r - alpha) / n."""
    return (r - excess / pmf_r) / n


def clamp(v):
    return 0.0 if not v > 0 else 1.0 if v > 1 else v


def funnel_limits(den, theta, od, phi, tau2):
    """lower95, upper95, lower998, upper998."""
    order = (0.025, 0.975, 0.001, 0.999)
    zs = (-Z95, Z95, -Z998, Z998)
    if od == "none":
        qs = binom_quantiles(den, theta, order)
        return [clamp(exact_limit(r, excess, pr, den)) for r, excess, pr in qs]
    y0 = math.asin(math.sqrt(theta))
    s = 1 / (2 * math.sqrt(den))
    sd = math.sqrt(phi) * s if od == "multiplicative" else math.sqrt(s * s + tau2)
    out = []
    for z in zs:
        y = y0 + z * sd
        out.append(0.0 if y <= 0 else 1.0 if y >= math.pi / 2 else math.sin(y) ** 2)
    return [clamp(v) for v in out]


def quantile7(xs, f):
    h = (len(xs) - 1) * f
    if not h > 0:
        return xs[0]
    if h >= len(xs) - 1:
        return xs[-1]
    j = int(math.floor(h))
    return xs[j] + (h - j) * (xs[j + 1] - xs[j])


def dispersion(units, theta, trim):
    """phi and tau2 over units (numerator, denominator > 0), target theta."""
    y0 = math.asin(math.sqrt(theta))
    zs = sorted(((math.asin(math.sqrt(n / d)) - y0) * 2 * math.sqrt(d), 4.0 * d)
                for n, d in units if d)
    if not zs:
        return None, 0.0
    z = [x for x, _ in zs]
    lo, hi = (quantile7(z, trim), quantile7(z, 1 - trim)) if trim > 0 else (-math.inf, math.inf)
    zw = [min(max(x, lo), hi) for x in z]
    k = len(zw)
    phi = math.fsum(x * x for x in zw) / k
    w = [wt for _, wt in zs]
    sw, sw2 = math.fsum(w), math.fsum(x * x for x in w)
    denom = sw - sw2 / sw
    tau2 = max(0.0, (k * phi - (k - 1)) / denom) if phi > 1 and k > 1 and denom > 0 else 0.0
    return phi, tau2


def classify(v, lims):
    lo95, hi95, lo998, hi998 = lims
    if any(abs(v - x) < EDGE for x in lims):
        return None
    if v > hi998:
        return "alarm_high"
    if v < lo998:
        return "alarm_low"
    if v > hi95:
        return "alert_high"
    if v < lo95:
        return "alert_low"
    return "in_control"


def main():
    ap = argparse.ArgumentParser(description="recompute a release's latest.csv independently")
    ap.add_argument("csv")
    ap.add_argument("--json", help="latest.json (default: beside the CSV)")
    ap.add_argument("--spc", help="spc.csv to check too (spc_summary.csv beside it)")
    a = ap.parse_args()
    jpath = a.json or os.path.join(os.path.dirname(a.csv) or ".", "latest.json")
    try:
        with open(a.csv, newline="", encoding="utf-8") as f:
            reader = csv.reader(f)
            head = next(reader, None)
            if head != COLUMNS:
                print("release_check: %s: header %r, expected %s" % (a.csv, head,
                                                                      ",".join(COLUMNS)))
                return 2
            rows = []
            for line, fields in enumerate(reader, start=2):
                if len(fields) != len(COLUMNS):
                    print("release_check: %s: row %d has %d fields, expected %d" %
                          (a.csv, line, len(fields), len(COLUMNS)))
                    return 2
                row = dict(zip(COLUMNS, fields))
                row["_line"] = line
                rows.append(row)
        with open(jpath, encoding="utf-8") as f:
            meta = json.load(f)
    except (OSError, ValueError) as e:
        print("release_check: %s" % e)
        return 2
    metrics = {m["id"]: m for m in meta.get("metrics", [])}
    methods = meta.get("methods", {})
    gated = bool((meta.get("provenance") or {}).get("outlier_process"))
    c = Checker(rows, metrics, methods.get("min_count") or 0, methods.get("trim", 0.1), gated)
    c.run()
    charts = 0
    if a.spc:
        try:
            got = check_spc(a.spc, metrics, methods.get("min_count") or 0)
        except (OSError, ValueError) as e:
            print("release_check: %s" % e)
            return 2
        if isinstance(got, list):  # a bad header
            print("release_check: %s" % got[0])
            return 2
        spc_errors, charts = got
        c.errors.extend(spc_errors)
    for e in c.errors:
        print(e)
    if c.errors:
        print("release_check: %d disagreements in %s" % (len(c.errors), a.csv))
        return 1
    print("release_check: %s agrees: %d rows, %d intervals, %d ratios, %d medians or means, "
          "%d funnel rows, %d sums, %d ledger bounds, %d run charts recomputed"
          % (a.csv, len(rows), c.checked["wilson"], c.checked["ratio"], c.checked["continuous"],
             c.checked["funnel"], c.checked["sums"], c.checked["ledger"], charts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
