#!/usr/bin/env python3
"""risk_check.py - recomputes `ncap risk` output independently of ncap's C code.

Usage: risk_check.py DEFINITION.yaml MODEL_ID FILE.csv NCAP_RISK_OUTPUT.csv

Reads the model's intercept and coefficients from the definition (python3-yaml), computes each
row's features from FILE.csv in Python (the published model's form, written out here by hand: the
transforms, winsorisation limits, centres and categories, not the definition's expressions), and
compares expected = 1/(1+exp(-eta)) (logistic) or exp(eta) (poisson) with what `ncap risk`
printed, within 1e-12 relative. A row with a missing input must be empty in both. The features of
each model must be as many as its terms, in the same order: a definition whose terms no longer
follow the published form fails here too.

Exit 0 when every row agrees; otherwise each disagreement is printed and the exit status is 1
(2 for unusable input).
"""

import csv
import datetime
import math
import sys

import yaml

TOL = 1e-12


def parse_date(text):
    """A date from 2026-01-10, 2026-01-10T08:00 or 10/01/2026 08:00."""
    text = text.strip()
    if len(text) >= 10 and text[4] == "-":
        return datetime.date(int(text[0:4]), int(text[5:7]), int(text[8:10]))
    if len(text) >= 10 and text[2] == "/":
        return datetime.date(int(text[6:10]), int(text[3:5]), int(text[0:2]))
    raise ValueError("not a date: %r" % text)


def age_years(dob, at):
    age = at.year - dob.year
    if (at.month, at.day) < (dob.month, dob.day):
        age -= 1
    return age


def clamp(x, lo, hi):
    return min(max(x, lo), hi)


class Missing(Exception):
    pass


def need(row, name):
    v = row.get(name, "").strip()
    if v == "":
        raise Missing(name)
    return v


def num(row, name):
    return float(need(row, name))


def nela_features(row):
    """The NELA risk model (Eugene et al. 2018, as the NELA calculator applies it; see nela.yaml):
    the terms in the definition's order, None for a term whose optional input is absent (the
    definition's default then stands in)."""
    age = age_years(parse_date(need(row, "date_of_birth")), parse_date(need(row, "arrival_datetime")))
    asa = int(need(row, "asa_grade"))
    a = age - 64.0
    f = [a, float(asa == 3), float(asa == 4), float(asa == 5)]
    f += [a if asa == g else 0.0 for g in (3, 4, 5)]
    albumin = row.get("albumin", "").strip()
    f.append(clamp(float(albumin), 10, 55) if albumin else None)
    pulse = clamp(num(row, "pulse_rate"), 55, 145) - 91
    sbp = clamp(num(row, "systolic_bp"), 70, 190) - 127
    f += [pulse, pulse * pulse, sbp, sbp * sbp]
    f.append(clamp(math.log(num(row, "urea")), 0.5, 3.7) - 1.9)
    wcc = clamp(math.log(num(row, "white_cell_count")), 0.8, 3.6) - 2.4
    f += [wcc, wcc * wcc]
    gcs = int(need(row, "glasgow_coma_score"))
    f += [float(gcs < 14), float(gcs == 14)]
    malignancy = need(row, "malignancy")
    f += [float(malignancy == c) for c in ("2", "4", "8")]
    resp = need(row, "respiratory_signs")
    f += [float(resp == "2"), float(resp in ("4", "8"))]
    urgency = need(row, "ncepod_urgency")
    f += [float(urgency == u) for u in ("1", "2A", "2B")]
    indication = row.get("indication", "").strip()
    f += [float(indication == c) if indication else None for c in ("sepsis", "ischaemia", "bleeding")]
    f.append(float(need(row, "peritoneal_soiling") in ("4", "8")))
    return f


def nhfd_features(row):
    """Tsang et al. 2017's variables (see nhfd.yaml): the terms in the definition's order."""
    age = age_years(parse_date(need(row, "date_of_birth")), parse_date(need(row, "arrival_datetime")))
    asa = int(need(row, "asa_grade"))
    mobility = need(row, "pre_fracture_mobility")
    amts = need(row, "amts_pre_op")
    residence = need(row, "residence_at_fracture")
    f = [age - 83.0, float(need(row, "sex") == "1"), float(asa == 3), float(asa >= 4)]
    f += [float(mobility == c) for c in ("2", "3", "4", "5", "9")]
    f += [float(amts in [str(i) for i in range(8)]), float(amts == "ND")]
    f += [float(residence in ("2", "3")), float(residence == "4"), float(residence in ("5", "9"))]
    return f


FEATURES = {"nela_mortality_30d": nela_features, "nhfd_mortality_30d": nhfd_features}


def main(argv):
    if len(argv) != 5:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    definition, model_id, data_path, output_path = argv[1:]
    with open(definition, encoding="utf-8") as f:
        d = yaml.safe_load(f)
    models = {m["id"]: m for m in d.get("risk_models") or []}
    if model_id not in models or model_id not in FEATURES:
        print("risk_check: no model %r (or no features for it)" % model_id, file=sys.stderr)
        return 2
    model = models[model_id]
    coefficients = [float(t["coefficient"]) for t in model["terms"]]
    defaults = [t.get("default") for t in model["terms"]]
    with open(data_path, newline="", encoding="utf-8") as f:
        rows = {i + 2: r for i, r in enumerate(csv.DictReader(f))}
    with open(output_path, newline="", encoding="utf-8") as f:
        got = list(csv.DictReader(f))
    problems = 0
    if len(got) != len(rows):
        print("ncap risk printed %d rows, the file has %d" % (len(got), len(rows)))
        problems += 1
    for g in got:
        line = int(g["row"])
        try:
            x = FEATURES[model_id](rows[line])
            if len(x) != len(coefficients):
                print("model %s has %d terms, its published form %d features"
                      % (model_id, len(coefficients), len(x)))
                return 1
            # a term without its (optional) input takes the definition's default, or the record
            # has no expected value
            for k, v in enumerate(x):
                if v is None:
                    if defaults[k] is None:
                        raise Missing("term %d" % (k + 1))
                    x[k] = float(defaults[k])
            eta = float(model["intercept"]) + sum(c * v for c, v in zip(coefficients, x))
            want = 1.0 / (1.0 + math.exp(-eta)) if model["kind"] == "logistic" else math.exp(eta)
        except Missing:
            want = None
        have = float(g["expected"]) if g["expected"] != "" else None
        if want is None or have is None:
            ok = want is None and have is None
        else:
            ok = abs(have - want) <= TOL * abs(want)
        if not ok:
            print("row %d: ncap risk gives %r, expected %r" % (line, g["expected"], want))
            problems += 1
    print("risk_check: %s: %d rows, %d disagreements" % (model_id, len(got), problems))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
