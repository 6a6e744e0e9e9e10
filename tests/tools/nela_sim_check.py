#!/usr/bin/env python3
"""nela_sim_check.py - checks `ncap sim --audit nela`'s statistical truth independently of its C code.

Usage: nela_sim_check.py NELA_YAML DIR TRUTH TRUSTS_TRUTH DEATHS DEATHS_TRUTH

NELA_YAML is the definition (deploy/audits/nela.yaml); DIR holds the trusts' files (--out), TRUTH
is --truth, TRUSTS_TRUTH --trusts-truth, DEATHS --deaths and DEATHS_TRUTH --deaths-truth of one run.
With Python's standard library and PyYAML alone it checks:
  - the true model is the definition's: each record's risk, the definition's risk model (the one
    its ratio metric expects, its terms' expressions evaluated here by Python) on the risk factors
    as written in the trust's file, equals the risk the truth gives within 1e-12;
  - the deaths: a record's patient dies within 30 days of the day of arrival (days 0-30) in the
    register of deaths (its row mapped to the patient by DEATHS_TRUTH) exactly when the truth says
    died_30d, and nobody dies before the day of surgery;
  - the trusts: per trust, over its valid rows, observed deaths O, expected E (the sum of the
    recomputed risks) and O/E; the O/E each trust's odds ratio implies (the sum of true_risk over
    the sum of risk) is what TRUSTS_TRUTH's role says (1 but for excess_risk, whose implied O/E is
    1.5 or more); each trust with excess risk lies beyond the upper 99.8% Poisson limit around 1
    (exact Poisson quantiles, E's expected count); the trust with sicker patients has crude
    mortality at least 1.3 times the ordinary trusts' yet lies within the 99.8% limits; and the
    risk factors go together as the simulator intends: age and ASA grade, acute severity and
    urgency, correlated positively.
Prints one line per trust and a summary; exit 0 when all holds, else 1 with what failed.
"""

import csv
import datetime
import glob
import math
import os
import re
import sys

import yaml


def clamp(x, lo, hi):
    return lo if x < lo else hi if x > hi else x


def age_years(dob, at):
    years = at.year - dob.year
    if (at.month, at.day) < (dob.month, dob.day):
        years -= 1
    return years


def parse_date(text):
    if "/" in text:  # DD/MM/YYYY
        d, m, y = text[:10].split("/")
        return datetime.date(int(y), int(m), int(d))
    return datetime.date.fromisoformat(text[:10])


def parse_datetime(text):
    if "/" in text:  # DD/MM/YYYY HH:MM
        day = parse_date(text)
        hh, mm = text[11:16].split(":")
        return datetime.datetime(day.year, day.month, day.day, int(hh), int(mm))
    return datetime.datetime.fromisoformat(text)


TOKEN = re.compile(r"\s*('[^']*'|[A-Za-z_][A-Za-z0-9_]*|[0-9]+(?:\.[0-9]+)?|<=|>=|==|!=|[-+*/(),<>])")
FUNCTIONS = {"if": "_if", "in": "_in", "ln": "math.log", "exp": "math.exp", "sqrt": "math.sqrt",
             "pow": "pow", "clamp": "_clamp", "min": "min", "max": "max"}


def _if(c, a, b):
    return a if c else b


def _in(x, *values):
    return x in values


def _clamp(x, lo, hi):
    return clamp(x, lo, hi)


def compile_expr(text):
    """A Python expression over F (the record's values) for an expression of the definition's
    language, as far as risk models use it, and the fields it reads (null propagates through every
    operator and function risk models use, so the term is null when any of them is)."""
    out, names, pos = [], set(), 0
    while pos < len(text):
        m = TOKEN.match(text, pos)
        if not m:
            if text[pos:].strip():
                raise ValueError(f"cannot read {text[pos:]!r} in {text!r}")
            break
        tok, pos = m.group(1), m.end()
        if tok in FUNCTIONS and text[pos:].lstrip().startswith("("):
            out.append(FUNCTIONS[tok])
        elif tok in ("and", "or", "not"):
            out.append(f" {tok} ")
        elif tok in ("true", "false"):
            out.append(tok.capitalize())
        elif re.match(r"[A-Za-z_]", tok):
            out.append(f"F[{tok!r}]")
            names.add(tok)
        else:
            out.append(tok)
    return compile("".join(out), text, "eval"), names


def load_model(path):
    """The risk model the definition's ratio metric expects: (kind, intercept, [(code, coef)])."""
    d = yaml.safe_load(open(path))
    models = {m["id"]: m for m in d.get("risk_models") or []}
    wanted = [m["expected"] for m in d["metrics"] if m.get("kind") == "ratio"]
    ids = [re.fullmatch(r"\s*risk\((\w+)\)\s*", w).group(1) for w in wanted]
    if not ids or ids[0] not in models:
        raise SystemExit(f"{path}: no ratio metric with expected: risk(MODEL) of a declared model")
    m = models[ids[0]]
    if m.get("kind", "logistic") != "logistic":
        raise SystemExit(f"{path}: model {ids[0]} is {m['kind']}, expected logistic")
    terms = [(*compile_expr(t["expr"]), float(t["coefficient"]), t.get("default"))
             for t in m["terms"]]
    fields = {f["name"]: f["type"] for f in d["fields"]}
    return ids[0], float(m["intercept"]), terms, fields


def values(row, fields):
    """The record's values as the definition types them, with age_at_arrival."""
    F = {}
    for name, kind in fields.items():
        v = row.get(name, "")
        if v == "":
            F[name] = None
        elif kind == "integer":
            F[name] = int(v)
        elif kind == "decimal":
            F[name] = float(v)
        else:
            F[name] = v
    F["age_at_arrival"] = age_years(parse_date(row["date_of_birth"]),
                                    parse_datetime(row["arrival_datetime"]).date())
    return F


def eta(row, model):
    """The model's log odds for the record: intercept plus each term's value times its
    coefficient, booleans counting 1/0, a term of a null field its default (None when it has
    none: the record has no expected value)."""
    _, intercept, terms, fields = model
    F = values(row, fields)
    e = intercept
    for code, names, coef, default in terms:
        if any(F[n] is None for n in names):
            if default is None:
                return None
            v = default
        else:
            v = eval(code, {"F": F, "math": math, "_if": _if, "_in": _in, "_clamp": _clamp})
        e += coef * float(v)
    return e


def poisson_quantile(p, mu):
    """The smallest r with P(X <= r) >= p, X ~ Poisson(mu), summed term by term."""
    r, term = 0, math.exp(-mu)
    cdf = term
    while cdf < p:
        r += 1
        term *= mu / r
        cdf += term
    return r


def spearman(xs, ys):
    def ranks(v):
        order = sorted(range(len(v)), key=lambda i: v[i])
        rk = [0.0] * len(v)
        i = 0
        while i < len(order):
            j = i
            while j + 1 < len(order) and v[order[j + 1]] == v[order[i]]:
                j += 1
            for k in range(i, j + 1):
                rk[order[k]] = (i + j) / 2
            i = j + 1
        return rk

    rx, ry = ranks(xs), ranks(ys)
    mx, my = sum(rx) / len(rx), sum(ry) / len(ry)
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry))
    return cov / math.sqrt(sum((a - mx) ** 2 for a in rx) * sum((b - my) ** 2 for b in ry))


def main():
    if len(sys.argv) != 7:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    model = load_model(sys.argv[1])
    out_dir, truth_path, trusts_path, deaths_path, deaths_truth_path = sys.argv[2:]
    failures = []
    truth = {}
    for r in csv.DictReader(open(truth_path, newline="")):
        truth[(r["trust_code"], r["row"])] = r
    trusts = {r["trust_code"]: r for r in csv.DictReader(open(trusts_path, newline=""))}
    # the register: each audit patient's date of death
    died_on = {}
    rows_of_register = list(csv.DictReader(open(deaths_path, newline="")))
    for r in csv.DictReader(open(deaths_truth_path, newline="")):
        if r["patient_id"]:
            died_on[r["patient_id"]] = datetime.date.fromisoformat(
                rows_of_register[int(r["row"]) - 2]["date_of_death"])

    per_trust = {}
    worst_diff, ages, asas, urg, soil = 0.0, [], [], [], []
    urgency_rank = {"3": 0, "2B": 1, "2A": 2, "1": 3}
    for path in sorted(glob.glob(os.path.join(out_dir, "*.csv"))):
        for line, row in enumerate(csv.DictReader(open(path, newline="")), start=2):
            t = truth[(row["trust_code"], str(line))]
            if t["invalid"] == "1":
                continue
            e = eta(row, model)
            if e is None:
                failures.append(f"{t['local_record_id']}: a risk input is missing")
                continue
            risk = 1 / (1 + math.exp(-e))
            worst_diff = max(worst_diff, abs(risk - float(t["risk"])))
            arrival = parse_datetime(row["arrival_datetime"]).date()
            surgery = parse_datetime(row["theatre_arrival_datetime"]).date()
            death = died_on.get(t["patient_id"])
            if death is not None and death < surgery:
                failures.append(f"{t['local_record_id']}: died {death}, before surgery {surgery}")
            died = death is not None and (death - arrival).days <= 30
            if died != (t["died_30d"] == "1"):
                failures.append(f"{t['local_record_id']}: the register says died within 30 days "
                                f"{died}, the truth {t['died_30d']}")
            s = per_trust.setdefault(row["trust_code"], [0, 0.0, 0.0, 0])
            s[0] += died
            s[1] += risk
            s[2] += float(t["true_risk"])
            s[3] += 1
            ages.append(age_years(parse_date(row["date_of_birth"]),
                                  parse_datetime(row["arrival_datetime"]).date()))
            asas.append(int(row["asa_grade"]))
            urg.append(urgency_rank[row["ncepod_urgency"]])
            soil.append(int(row["peritoneal_soiling"]))
    if worst_diff > 1e-12:
        failures.append(f"the definition's model {model[0]} differs from the simulator's truth by up "
                        f"to {worst_diff:g}: services/ncap/sim/nela_model.c must restate it")

    ordinary_deaths = sum(s[0] for c, s in per_trust.items() if trusts[c]["role"] == "ordinary")
    ordinary_n = sum(s[3] for c, s in per_trust.items() if trusts[c]["role"] == "ordinary")
    ordinary_crude = ordinary_deaths / ordinary_n
    print("trust role O E O/E implied_O/E 99.8%_limits crude")
    for code in sorted(per_trust):
        o, e, e_true, n = per_trust[code]
        role = trusts[code]["role"]
        implied = e_true / e
        lo = poisson_quantile(0.001, e) / e
        hi = poisson_quantile(0.999, e) / e
        ratio = o / e
        crude = o / n
        print(f"{code} {role} {o} {e:.1f} {ratio:.3f} {implied:.3f} {lo:.3f}-{hi:.3f} {crude:.3f}")
        if int(trusts[code]["deaths_30d"]) != o or abs(float(trusts[code]["expected_30d"]) - e) > 1e-4:
            failures.append(f"{code}: the trusts' truth says O {trusts[code]['deaths_30d']} E "
                            f"{trusts[code]['expected_30d']}, recomputed O {o} E {e:.6f}")
        if role == "excess_risk":
            if implied < 1.5:
                failures.append(f"{code}: excess risk implies O/E {implied:.3f}, expected 1.5 or more")
            if ratio <= hi:
                failures.append(f"{code}: excess risk but O/E {ratio:.3f} within the 99.8% limit {hi:.3f}")
        elif abs(implied - 1) > 1e-12:
            failures.append(f"{code}: {role} yet its odds ratio implies O/E {implied:.3f}")
        if role == "sicker_patients":
            if crude < 1.3 * ordinary_crude:
                failures.append(f"{code}: sicker patients but crude mortality {crude:.3f}, "
                                f"the ordinary trusts' {ordinary_crude:.3f}")
            if not lo <= ratio <= hi:
                failures.append(f"{code}: sicker patients, ordinary care, yet O/E {ratio:.3f} "
                                f"outside the 99.8% limits {lo:.3f}-{hi:.3f}")
    rho_age_asa, rho_urg_soil = spearman(ages, asas), spearman(urg, soil)
    if rho_age_asa < 0.15 or rho_urg_soil < 0.15:
        failures.append(f"risk factors barely related: Spearman age-ASA {rho_age_asa:.2f}, "
                        f"urgency-soiling {rho_urg_soil:.2f}, expected 0.15 or more")
    for f in failures:
        print("FAIL", f)
    print(f"SUMMARY truth is {model[0]} within {worst_diff:.1e}; ordinary crude mortality "
          f"{ordinary_crude:.3f}; "
          f"Spearman age-ASA {rho_age_asa:.2f}, urgency-soiling {rho_urg_soil:.2f}; "
          f"{len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
