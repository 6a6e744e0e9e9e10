#!/usr/bin/env bash
# docker-compose accepts docker-compose.yml, which has every service the deployment needs, and no
# stage service fixes a container name or a host port, while each listens on its container's
# interface, never all interfaces (so `docker-compose up --scale linkage=3` works). Each stage runs
# with its CurveZMQ keys and mounts only the key volumes it needs: its own stage keys; ingest the
# trusts' public keys; linkage the pseudonymisation key; the simulator the trusts' keys. Run
# through tests/run.
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
    env = svc.get("environment", {})
    if env.get("NCAP_BIND_HOST") != "eth0":
        problems.append(f'service "{name}" does not bind its container interface (NCAP_BIND_HOST eth0)')
    if env.get("NCAP_KEYS_DIR") != "/var/lib/ncap/stage-keys" or "NCAP_INSECURE_PLAIN" in env:
        problems.append(f'service "{name}" does not run with its stage keys (NCAP_KEYS_DIR)')
    vols = sorted(v.split(":")[0] for v in svc.get("volumes", []) if not v.startswith("/"))
    want = sorted([f"stage-keys-{name}"] + {"ingest": ["trust-pub"], "linkage": ["keys"],
                                            "publish": ["releases"]}.get(name, []))
    if vols != want:
        problems.append(f'service "{name}" mounts {vols}, expected only {want}')
    cond = svc.get("depends_on", {}).get("migrate", {}).get("condition")
    if cond != "service_completed_successfully":
        problems.append(f'service "{name}" does not wait for migrate to complete (condition {cond})')
sim = services.get("sim", {})
if sorted(v.split(":")[0] for v in sim.get("volumes", [])) != ["sim-keys"] or \
        "NCAP_CLIENT_KEYS" not in sim.get("environment", {}):
    problems.append('service "sim" does not submit with the trusts\' keys (sim-keys, NCAP_CLIENT_KEYS)')
print("\n".join(problems))
PY
)
[ -z "$report" ] || fail "docker-compose.yml: $report"
e2e_say "stage services scale: no container_name, no host ports, bound to eth0; each with its own keys only; they start after migrate"
e2e_say "PASS"
