#!/usr/bin/env bash
# deploy/k8s, offline (no cluster runs here): `kubectl kustomize` renders it; deploy/k8s/new-secrets
# --print makes every Secret it names (with a real ncap for the keys), and makes them again alike
# (the values are kept); tests/tools/k8s_check.py checks every object against its kind's schema and
# the deployment's rules (a Deployment per stage, non-root, read-only, memory bounded, probes on
# /healthz and /readyz, a PodDisruptionBudget each, linkage and validation autoscaled on their
# backlog, PostgreSQL by CloudNativePG with a synchronous standby, the migrations as a Job, each
# stage reachable only from its upstream and reaching only its downstream and PostgreSQL); and the
# checker itself finds a broken render. The Dockerfile's final image: no compiler, a non-root user.
# Run through tests/run.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

command -v kubectl >/dev/null || fail "kubectl is not installed (Debian: kubernetes-client)"
kubectl kustomize "$NCAP_ROOT/deploy/k8s" >"$E2E_DIR/rendered.yaml" 2>"$E2E_DIR/kustomize.err" ||
  fail "kubectl kustomize deploy/k8s failed: $(cat "$E2E_DIR/kustomize.err")"
e2e_say "kubectl kustomize renders deploy/k8s: $(grep -c '^kind:' "$E2E_DIR/rendered.yaml") objects"

rm -rf "$E2E_DIR/secrets"
make_secrets() {
  NCAP="$CTX_BUILD/ncap" "$NCAP_ROOT/deploy/k8s/new-secrets" --dir "$E2E_DIR/secrets" --print
}
make_secrets >"$E2E_DIR/secrets.yaml" || fail "deploy/k8s/new-secrets --print failed"
make_secrets >"$E2E_DIR/secrets-again.yaml" || fail "deploy/k8s/new-secrets --print failed the second time"
cmp -s "$E2E_DIR/secrets.yaml" "$E2E_DIR/secrets-again.yaml" ||
  fail "deploy/k8s/new-secrets made different Secrets the second time (the values must be kept)"
[ "$(stat -c %a "$E2E_DIR/secrets")" = 700 ] || fail "deploy/k8s/new-secrets' folder is not 0700"
e2e_say "new-secrets made $(grep -c '^kind: Secret' "$E2E_DIR/secrets.yaml") Secrets, the same twice"

report=$(python3 "$NCAP_ROOT/tests/tools/k8s_check.py" "$E2E_DIR/rendered.yaml" "$E2E_DIR/secrets.yaml") ||
  fail "deploy/k8s: $report"
e2e_say "every object passes its schema and the deployment's rules (tests/tools/k8s_check.py)"
grep -q '"ncap_backlog_records"' "$NCAP_ROOT/common/runtime/metrics.c" ||
  fail "the autoscalers follow ncap_backlog_records, which the daemons no longer export"

# The checker finds what it is for: the same render, broken three ways.
broken() { # broken NAME PYTHON EXPECTED: applies PYTHON (on docs) to the render; the checker must say EXPECTED
  python3 - "$E2E_DIR/rendered.yaml" "$E2E_DIR/broken-$1.yaml" <<PY
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
$2
yaml.safe_dump_all(docs, open(sys.argv[2], "w"))
PY
  local out
  if out=$(python3 "$NCAP_ROOT/tests/tools/k8s_check.py" "$E2E_DIR/broken-$1.yaml" "$E2E_DIR/secrets.yaml"); then
    fail "k8s_check.py passed a render with $1"
  fi
  grep -qF "$3" <<<"$out" || fail "k8s_check.py on a render with $1 said \"$out\", not \"$3\""
}
broken "validation open to any pod" \
  'del next(d for d in docs if d["metadata"]["name"] == "ncap-validation" and d["kind"] == "NetworkPolicy")["spec"]["ingress"][0]["from"]' \
  "network: any pod may reach validation"
broken "a stage running as root" \
  'next(d for d in docs if d["metadata"]["name"] == "ncap-metric")["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] = False' \
  "ncap-metric: does not run as a non-root user"
broken "no synchronous standby" \
  'next(d for d in docs if d["kind"] == "Cluster")["spec"]["minSyncReplicas"] = 0' \
  "PostgreSQL has no synchronous standby"
e2e_say "k8s_check.py refuses a render with a stage open to any pod, with a root stage, without a synchronous standby"

# The image: the final stage of the multi-stage Dockerfile has no compiler and runs as a non-root user.
python3 - "$NCAP_ROOT/deploy/docker/Dockerfile" <<'PY' || fail "deploy/docker/Dockerfile's final image"
import re, sys
stages = re.split(r"(?m)^FROM ", open(sys.argv[1]).read())[1:]
if len(stages) < 2:
    sys.exit("not a multi-stage build")
final = stages[-1]
for tool in ["build-essential", "gcc", "cmake", "clang", "-dev "]:
    if tool in final:
        sys.exit(f"the final image installs {tool.strip()}")
user = re.findall(r"(?m)^USER (\S+)", final)
if not user or user[-1] in ("root", "0"):
    sys.exit("the final image runs as root")
PY
e2e_say "deploy/docker/Dockerfile: multi-stage; the final image has no compiler and runs as $(sed -n 's/^USER //p' "$NCAP_ROOT/deploy/docker/Dockerfile" | tail -1)"
e2e_say PASS
