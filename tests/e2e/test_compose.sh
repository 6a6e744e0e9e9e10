#!/usr/bin/env bash
# docker-compose accepts docker-compose.yml, which has every service the deployment needs, and no
# stage service fixes a container name or a host port, while each listens on all its interfaces (so
# `docker-compose up --scale linkage=3` works). Run through tests/run.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

cd "$NCAP_ROOT"
docker-compose -f docker-compose.yml config -q 2>"$E2E_DIR/config.err" ||
  fail "docker-compose config rejects docker-compose.yml: $(cat "$E2E_DIR/config.err")"
e2e_say "docker-compose config accepts docker-compose.yml"

# The resolved configuration, as docker-compose understands it (python3-yaml comes with it).
docker-compose -f docker-compose.yml config >"$E2E_DIR/config.yml" 2>/dev/null
report=$(python3 - "$E2E_DIR/config.yml" <<'PY'
import sys, yaml
services = yaml.safe_load(open(sys.argv[1]))["services"]
problems = []
for name in ["postgres", "migrate", "ingest", "linkage", "validation", "metric", "publish", "sim"]:
    if name not in services:
        problems.append(f'no service "{name}"')
for name in ["ingest", "linkage", "validation", "metric", "publish"]:
    svc = services.get(name, {})
    for key in ["container_name", "ports"]:
        if key in svc:
            problems.append(f'service "{name}" has "{key}", which stops it from scaling')
    if svc.get("environment", {}).get("NCAP_BIND_HOST") != "0.0.0.0":
        problems.append(f'service "{name}" does not set NCAP_BIND_HOST 0.0.0.0: other containers cannot reach it')
    cond = svc.get("depends_on", {}).get("migrate", {}).get("condition")
    if cond != "service_completed_successfully":
        problems.append(f'service "{name}" does not wait for migrate to complete (condition {cond})')
print("\n".join(problems))
PY
)
[ -z "$report" ] || fail "docker-compose.yml: $report"
e2e_say "stage services scale: no container_name, no host ports, bound to 0.0.0.0; they start after migrate"
e2e_say "PASS"
