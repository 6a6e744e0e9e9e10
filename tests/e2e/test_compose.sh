#!/usr/bin/env bash
# docker-compose accepts docker-compose.yml, which has every service the deployment needs, and no
# stage service fixes a container name or a host port, while each listens on its container's
# interface, never all interfaces (so `docker-compose up --scale linkage=3` works), and serves its
# metrics and health there (NCAP_METRICS_LISTEN eth0:9464). Each stage runs
# with its CurveZMQ keys and mounts only the key volumes it needs: its own stage keys; ingest the
# trusts' public keys; linkage the pseudonymisation key; the simulator the trusts' keys (and the
# register of deaths it writes, which deaths-loader loads as it grows). PostgreSQL
# authenticates every connection with a SCRAM-SHA-256 password, no service uses trust, and each
# daemon gets its own role's password and no other (Compose secrets that deploy/docker/new-secrets
# makes, kept out of git and the image). Run through tests/run.
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
for name in ["postgres", "migrate", "ingest", "linkage", "validation", "metric", "publish", "web", "sim"]:
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
    if env.get("NCAP_METRICS_LISTEN") != "eth0:9464":
        problems.append(f'service "{name}" serves no metrics on its container interface (NCAP_METRICS_LISTEN eth0:9464)')
    if env.get("NCAP_KEYS_DIR") != "/var/lib/ncap/stage-keys" or "NCAP_INSECURE_PLAIN" in env:
        problems.append(f'service "{name}" does not run with its stage keys (NCAP_KEYS_DIR)')
    vols = sorted(v.split(":")[0] for v in svc.get("volumes", []) if not v.startswith("/"))
    want = sorted([f"stage-keys-{name}"] + {"ingest": ["trust-pub"], "linkage": ["keys"],
                                            "publish": ["releases", "team"]}.get(name, []))
    if vols != want:
        problems.append(f'service "{name}" mounts {vols}, expected only {want}')
    cond = svc.get("depends_on", {}).get("migrate", {}).get("condition")
    if cond != "service_completed_successfully":
        problems.append(f'service "{name}" does not wait for migrate to complete (condition {cond})')
sim = services.get("sim", {})
if sorted(v.split(":")[0] for v in sim.get("volumes", [])) != ["register", "sim-keys"] or \
        "NCAP_CLIENT_KEYS" not in sim.get("environment", {}):
    problems.append('service "sim" does not submit with the trusts\' keys (sim-keys, NCAP_CLIENT_KEYS)'
                    ' and write its register of deaths (register)')
# the simulated register of deaths is loaded as it grows, so that mortality is followed up
loader = services.get("deaths-loader", {})
if "--deaths" not in sim.get("command", []) or \
        sim["command"][sim["command"].index("--deaths") + 1] not in loader.get("command", []):
    problems.append('service "deaths-loader" does not load the register of deaths "sim" writes')
# the web server: the releases read-only, PostgreSQL as ncap_web, its port published
web = services.get("web", {})
if sorted(v for v in web.get("volumes", []) if not v.startswith("/")) != \
        ["releases:/var/lib/ncap/releases:ro", "stage-keys-web:/var/lib/ncap/stage-keys:ro"]:
    problems.append(f'service "web" mounts {web.get("volumes")}, expected only the releases and its '
                    'keys, read-only')
if "user=ncap_web" not in str(web.get("environment", {}).get("NCAP_PG", "")).split():
    problems.append('service "web" does not connect as ncap_web')
if not web.get("ports"):
    problems.append('service "web" publishes no port: the portal would not be reachable')
print("\n".join(problems))
PY
)
[ -z "$report" ] || fail "docker-compose.yml: $report"
e2e_say "stage services scale: no container_name, no host ports, bound to eth0; each with its own keys only; they start after migrate"

# PostgreSQL's authentication, its settings and who gets which password.
report=$(python3 - "$E2E_DIR/config.yml" "$NCAP_ROOT/tests/tools" <<'PY'
import re, sys, yaml
sys.path.insert(0, sys.argv[2])
import ncap_pg_settings
config = yaml.safe_load(open(sys.argv[1]))
services = config["services"]
stages = ["ingest", "linkage", "validation", "metric", "publish"]
roles = ["ncap_admin"] + ["ncap_" + s for s in stages + ["web"]]
problems = []
def secrets_of(svc):
    return sorted(s["source"] if isinstance(s, dict) else s for s in svc.get("secrets", []))
for name, svc in services.items():
    env = svc.get("environment", {}) or {}
    for key, value in env.items():
        value = str(value)
        if key == "POSTGRES_HOST_AUTH_METHOD" and value != "scram-sha-256":
            problems.append(f'service "{name}": POSTGRES_HOST_AUTH_METHOD is "{value}", expected scram-sha-256')
        if key == "POSTGRES_INITDB_ARGS":
            for method in re.findall(r"--auth[a-z-]*=(\S+)", value):
                if method != "scram-sha-256":
                    problems.append(f'service "{name}": POSTGRES_INITDB_ARGS authenticates with "{method}"')
        if key in ("POSTGRES_PASSWORD", "PGPASSWORD") or "password=" in value:
            problems.append(f'service "{name}": a password in clear in its environment ({key})')
pg_env = services.get("postgres", {}).get("environment", {}) or {}
if "POSTGRES_HOST_AUTH_METHOD" not in pg_env:
    problems.append("postgres does not set POSTGRES_HOST_AUTH_METHOD (expected scram-sha-256)")
initdb = pg_env.get("POSTGRES_INITDB_ARGS", "")
# deploy/local/postgresql.ncap.conf's settings, each on postgres' command line with its value
conf = ncap_pg_settings.settings()
command = services.get("postgres", {}).get("command", [])
given = dict(command[i + 1].split("=", 1) for i, a in enumerate(command[:-1]) if a == "-c")
for key, value in conf.items():
    if given.get(key) != value:
        problems.append(f'postgres: its command sets {key} to {given.get(key)}, deploy/local/postgresql.ncap.conf to {value}')
for opt in ["--auth-local=scram-sha-256", "--auth-host=scram-sha-256"]:
    if opt not in initdb:
        problems.append(f'postgres: POSTGRES_INITDB_ARGS lacks {opt} (initdb would trust the local socket)')
if "--lc-collate=C " not in initdb + " ":
    problems.append("postgres: POSTGRES_INITDB_ARGS lacks --lc-collate=C (the image's en_US.utf8 would order text)")
if pg_env.get("POSTGRES_PASSWORD_FILE") != "/run/secrets/ncap_admin":
    problems.append("postgres: POSTGRES_PASSWORD_FILE is not /run/secrets/ncap_admin")
for name, want in [("postgres", ["ncap_admin"]), ("migrate", sorted(roles)), ("sim", ["ncap_admin"])]:
    if secrets_of(services.get(name, {})) != want:
        problems.append(f'service "{name}" gets secrets {secrets_of(services.get(name, {}))}, expected {want}')
migrate = services.get("migrate", {})
if "--role-passwords" not in migrate.get("command", []):
    problems.append("migrate does not set the daemon roles' passwords (ncap migrate --role-passwords)")
for stage in stages + ["web"]:
    svc, role = services.get(stage, {}), "ncap_" + stage
    env = svc.get("environment", {}) or {}
    if secrets_of(svc) != [role]:
        problems.append(f'service "{stage}" gets secrets {secrets_of(svc)}, expected only [{role!r}]')
    if env.get("NCAP_PG_PASSWORD_FILE") != "/run/secrets/" + role:
        problems.append(f'service "{stage}": NCAP_PG_PASSWORD_FILE is not /run/secrets/{role}')
    if f"user={role}" not in str(env.get("NCAP_PG", "")).split():
        problems.append(f'service "{stage}": NCAP_PG does not connect as {role}')
    for v in svc.get("volumes", []):
        if "secrets" in str(v):
            problems.append(f'service "{stage}" mounts the secrets folder: {v}')
top = config.get("secrets", {})
if sorted(top) != sorted(roles):
    problems.append(f"top-level secrets {sorted(top)}, expected {sorted(roles)}")
for name, spec in top.items():
    if not str(spec.get("file", "")).endswith("/deploy/docker/secrets/" + name):
        problems.append(f'secret "{name}" is not the file deploy/docker/secrets/{name}')
print("\n".join(problems))
PY
)
[ -z "$report" ] || fail "docker-compose.yml: $report"
e2e_say "PostgreSQL: SCRAM-SHA-256 for every connection, no trust; the C collation and deploy/local/postgresql.ncap.conf's settings; each daemon gets only its own role's password"

# The secrets: out of git and out of the image's build context.
git -C "$NCAP_ROOT" check-ignore -q deploy/docker/secrets/ncap_admin ||
  fail "git does not ignore deploy/docker/secrets/"
grep -qxF 'deploy/docker/secrets/' .dockerignore ||
  fail ".dockerignore does not leave out deploy/docker/secrets/: the passwords would be copied into the build"

# The generator: seven passwords, made once, never printed.
secrets=$E2E_DIR/secrets
rm -rf "$secrets"
out=$(deploy/docker/new-secrets "$secrets") || fail "deploy/docker/new-secrets failed"
[ "$(stat -c %a "$secrets")" = 700 ] || fail "the secrets folder is not 700"
for role in ncap_admin ncap_ingest ncap_linkage ncap_validation ncap_metric ncap_publish ncap_web; do
  grep -qxE '[0-9a-f]{64}' "$secrets/$role" || fail "secret $role is not 64 hexadecimal characters"
  [ "$(stat -c %a "$secrets/$role")" = 644 ] || fail "secret $role is not 644 (containers could not read it)"
  case $out in *"$(cat "$secrets/$role")"*) fail "deploy/docker/new-secrets printed a password" ;; esac
done
sum=$(cat "$secrets"/* | md5sum)
deploy/docker/new-secrets "$secrets" >/dev/null
[ "$(cat "$secrets"/* | md5sum)" = "$sum" ] || fail "a second deploy/docker/new-secrets changed the passwords"
[ "$(find "$secrets" -type f | wc -l)" -eq 7 ] || fail "deploy/docker/new-secrets left other files"
e2e_say "deploy/docker/new-secrets makes the seven passwords once (folder 700, never printed)"
e2e_say "PASS"
