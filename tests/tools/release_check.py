#!/usr/bin/env python3
"""release_check.py - recomputes a release's latest.csv independently of ncap's C code.

Usage: release_check.py [--json latest.json] latest.csv

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
Suppressed numerators are left out of what needs them.

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
           "outlier,note,expected,held,missing").split(",")
FIGURES = ("value", "lower95", "upper95", "lower998", "upper998")
FUNNEL = ("funnel_lower95", "funnel_upper95", "funnel_lower998", "funnel_upper998")
LEVELS = ("england", "region", "trust", "site")
CHILD = {"england": "region", "region": "trust", "trust": "site"}
ENGLAND = "E92000001"


class Checker:
    def __init__(self, rows, metrics, min_count, trim):
        self.rows = rows
        self.metrics = metrics
        self.min_count = min_count
        self.trim = trim
        self.errors = []
        self.checked = {"wilson": 0, "funnel": 0, "sums": 0}

    def error(self, row, what):
        where = "row %d (%s %s %s %s %s)" % (row["_line"], row["metric"], row["level"],
                                             row["area_code"], row["breakdown"], row["category"])
        self.errors.append("%s: %s" % (where, what))

    def near(self, row, field, want):
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

    def check_row(self, row, england):
        sup = suppressed(row)
        den = count(row["denominator"])
        if row["breakdown"] == "sii":
            if row["level"] != "england":
                self.error(row, "an SII row below England level")
            self.empty(row, ("numerator", "denominator") + FUNNEL + ("outlier",), "an SII row")
            return
        if den is None:
            self.error(row, "denominator %r, expected a count" % row["denominator"])
            return
        if sup:
            self.empty(row, ("numerator",) + FIGURES + FUNNEL +
                       ("outlier", "compared_to_england"), "suppressed")
            return
        n = count(row["numerator"])
        if n is None or n > den:
            self.error(row, "numerator %r, expected a count of at most %d" % (row["numerator"],
                                                                            den))
            return
        if self.min_count > 1 and (0 < n < self.min_count or 0 < den - n < self.min_count):
            self.error(row, "%d of %d shown, under min_count %d" % (n, den, self.min_count))
        if den == 0:
            self.empty(row, FIGURES + ("compared_to_england",), "no denominator")
        else:
            v = n / den
            lo95, hi95 = wilson(n, den, Z95)
            lo998, hi998 = wilson(n, den, Z998)
            for f, want in zip(FIGURES, (v, lo95, hi95, lo998, hi998)):
                self.near(row, f, want)
            self.checked["wilson"] += 1
        # England's value and the comparison with it
        if england is None:
            self.empty(row, ("england_value", "compared_to_england") + FUNNEL + ("outlier",),
                       "England's value not published")
            return
        self.near(row, "england_value", england)
        want = ""
        if row["level"] != "england" and den > 0:
            want = compare(wilson(n, den, Z95), england, self.metrics[row["metric"]]["polarity"])
        if want is None:
            return  # on the edge: either answer is right
        if row["compared_to_england"] != want:
            self.error(row, "compared_to_england %r, recomputed %r" %
                       (row["compared_to_england"], want))

    # ---- funnels ----

    def check_funnels(self, metric, england):
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
        phi, tau2 = dispersion([(count(r["numerator"]), count(r["denominator"])) for r in trusts],
                               england, self.trim)
        self.check_stated(metric, phi, tau2, len(trusts))
        adjust = od != "none" and phi is not None and phi > 1
        for r in units:
            den = count(r["denominator"])
            if suppressed(r) or not den:
                self.empty(r, FUNNEL + ("outlier",), "suppressed or no denominator")
                continue
            n = count(r["numerator"])
            lims = funnel_limits(den, england, od if adjust else "none", phi, tau2)
            for f, want in zip(FUNNEL, lims):
                self.near(r, f, want)
            flag = classify(n / den, lims)
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
                        self.sum_check(p, rows, level != "trust", "its %s categories" % b)

    def sum_check(self, parent, kids, exact, what):
        dens = [count(k["denominator"]) for k in kids]
        nums = [count(k["numerator"]) for k in kids]
        pden, pnum = count(parent["denominator"]), count(parent["numerator"])
        sden = sum(d for d in dens if d is not None)
        if (exact and sden != pden) or (not exact and sden > pden):
            self.error(parent, "denominator %s, %s sum to %d" % (pden, what, sden))
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
                englands[r["metric"]] = n / d if n is not None and d else None
        for r in self.rows:
            self.check_row(r, englands.get(r["metric"]))
        for metric in self.metrics:
            self.check_funnels(metric, englands.get(metric))
        self.check_sums()


PARENT = {"region": "england", "trust": "region", "site": "trust"}


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
    total = math.fsum(pmf)
    pmf = [x / total for x in pmf]
    out = []
    for p in ps:
        if p < 0.5:  # from below: F(k) summed up from lo
            f = 0.0
            for i, x in enumerate(pmf):
                f1, f = f, f + x
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
    c = Checker(rows, metrics, methods.get("min_count") or 0, methods.get("trim", 0.1))
    c.run()
    for e in c.errors:
        print(e)
    if c.errors:
        print("release_check: %d disagreements in %s" % (len(c.errors), a.csv))
        return 1
    print("release_check: %s agrees: %d rows, %d intervals, %d funnel rows, %d sums recomputed"
          % (a.csv, len(rows), c.checked["wilson"], c.checked["funnel"], c.checked["sums"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
