#!/usr/bin/env bash
# PostgreSQL with SCRAM-SHA-256 passwords, as docker-compose.yml runs it, on a throwaway cluster of
# the test's own initialised with the compose file's POSTGRES_INITDB_ARGS and the admin password of
# deploy/docker/new-secrets: no rule of pg_hba.conf but scram-sha-256; without a password nobody
# connects; `ncap migrate --role-passwords DIR` sets the daemon roles' passwords from their files
# without printing one, and again alike; each role logs in with its own password and not with
# another's; a daemon connects as its role with NCAP_PG_PASSWORD_FILE naming its own file, and with
# another role's file is refused. Run through tests/run.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

roles=(ncap_ingest ncap_linkage ncap_validation ncap_metric ncap_publish ncap_web)
secrets=$E2E_DIR/secrets
rm -rf "$secrets"
"$NCAP_ROOT/deploy/docker/new-secrets" "$secrets" >/dev/null

# The cluster: initdb as the postgres image runs it for docker-compose.yml.
initdb_args=$(python3 -c 'import sys, yaml
print(yaml.safe_load(open(sys.argv[1]))["services"]["postgres"]["environment"]["POSTGRES_INITDB_ARGS"])' \
  "$NCAP_ROOT/docker-compose.yml")
PG_BASE=$(ncap_pg_dir "$E2E_DIR/scram")
PG_SOCK=$(ncap_pg_sockdir "$PG_BASE")
ncap_pg_down "$PG_BASE"
rm -rf "$PG_BASE" "$PG_SOCK"
mkdir -p "$PG_BASE" "$PG_SOCK"
[ "$(id -u)" -ne 0 ] || chown postgres:postgres "$PG_BASE" "$PG_SOCK"
chmod 700 "$PG_BASE" "$PG_SOCK"
stop_cluster() {
  e2e_cleanup
  ncap_pg_down "$PG_BASE"
}
trap stop_cluster EXIT
# shellcheck disable=SC2086 # the compose file's arguments, split as the image's entrypoint does
ncap_as_pg "$NCAP_PG_BIN/initdb" -D "$PG_BASE/data" -U "$NCAP_PG_SUPERUSER" -E UTF8 \
  --pwfile=/dev/stdin $initdb_args <"$secrets/ncap_admin" >"$E2E_DIR/initdb.log" 2>&1 ||
  fail "initdb $initdb_args failed: $(tail -n 5 "$E2E_DIR/initdb.log")"
ncap_as_pg "$NCAP_PG_BIN/pg_ctl" -D "$PG_BASE/data" -l "$PG_BASE/postgres.log" -w -t 60 \
  -o "-k '$PG_SOCK' -p $NCAP_PGPORT -c listen_addresses=''" start >/dev/null ||
  fail "could not start the SCRAM cluster: $(tail -n 5 "$PG_BASE/postgres.log")"

conninfo() { printf 'host=%s port=%s dbname=postgres user=%s' "$PG_SOCK" "$NCAP_PGPORT" "$1"; }
# login ROLE PASSWORD-FILE: true when psql gets in as ROLE with the password in the file.
login() {
  PGPASSWORD=$(<"$2") psql -X -q -tA -w -d "$(conninfo "$1")" -c 'SELECT 1' >/dev/null 2>&1
}
admin_psql() {
  PGPASSWORD=$(<"$secrets/ncap_admin") psql -X -q -tA -w -v ON_ERROR_STOP=1 \
    -d "$(conninfo "$NCAP_PG_SUPERUSER")" -c "$1"
}

other=$(admin_psql "SELECT count(*) FROM pg_hba_file_rules WHERE auth_method <> 'scram-sha-256'")
[ "$other" = 0 ] || fail "pg_hba.conf has $other rule(s) that are not scram-sha-256: $(admin_psql \
  "SELECT string_agg(type || ' ' || auth_method, ', ') FROM pg_hba_file_rules")"
login "$NCAP_PG_SUPERUSER" /dev/null && fail "ncap_admin logged in without its password"
e2e_say "every rule of pg_hba.conf is scram-sha-256 (POSTGRES_INITDB_ARGS \"$initdb_args\"); no password, no login"
locale=$(admin_psql "SELECT datcollate || ' ' || datctype FROM pg_database WHERE datname = 'postgres'")
[ "$locale" = "C C.UTF-8" ] || fail "the cluster's collation and ctype are \"$locale\", expected \"C C.UTF-8\""
e2e_say "text compared byte by byte: collation C, ctype C.UTF-8"

# ncap migrate: refused without the admin's password; with it, sets the six roles' passwords.
NCAP_PG=$(conninfo "$NCAP_PG_SUPERUSER") "$CTX_BUILD/ncap" migrate >"$E2E_DIR/migrate0.out" 2>&1 &&
  fail "ncap migrate connected without a password"
grep -q "password" "$E2E_DIR/migrate0.out" || fail "ncap migrate without a password: $(cat "$E2E_DIR/migrate0.out")"
for run in 1 2; do
  NCAP_PG=$(conninfo "$NCAP_PG_SUPERUSER") NCAP_PG_PASSWORD_FILE=$secrets/ncap_admin \
    "$CTX_BUILD/ncap" migrate --role-passwords "$secrets" >"$E2E_DIR/migrate$run.out" 2>&1 ||
    fail "ncap migrate --role-passwords (run $run): $(cat "$E2E_DIR/migrate$run.out")"
  grep -q "^passwords: set" "$E2E_DIR/migrate$run.out" || fail "ncap migrate set no password (run $run)"
  for f in "$secrets"/*; do
    ! grep -qF "$(<"$f")" "$E2E_DIR/migrate$run.out" || fail "ncap migrate printed the password of $(basename "$f")"
  done
  for role in "${roles[@]}"; do
    login "$role" "$secrets/$role" || fail "$role cannot log in with its password after run $run"
  done
done
stored=$(admin_psql "SELECT count(*) FROM pg_authid WHERE rolname LIKE 'ncap\_%'
  AND rolname <> '$NCAP_PG_SUPERUSER' AND rolpassword LIKE 'SCRAM-SHA-256\$4096:%'")
[ "$stored" = "${#roles[@]}" ] || fail "$stored of the ${#roles[@]} daemon roles hold a SCRAM-SHA-256 verifier"
for i in "${!roles[@]}"; do
  wrong=${roles[$(((i + 1) % ${#roles[@]}))]}
  login "${roles[$i]}" "$secrets/$wrong" && fail "${roles[$i]} logged in with $wrong's password"
done
e2e_say "ncap migrate --role-passwords: each daemon role logs in with its own password only, none printed, twice alike"

# A daemon with its own role's password file works; with another role's it is refused.
CTX_RUN=$E2E_DIR/run
rm -rf "$CTX_RUN"
registered() { [ "$(admin_psql "SELECT count(*) FROM ops.instance WHERE stage = 'metric'")" -gt 0 ]; }
ncap_spawn metric-wrong env NCAP_PG="$(conninfo ncap_metric)" NCAP_PG_PASSWORD_FILE="$secrets/ncap_publish" \
  NCAP_KEYS_DIR="$CTX_KEYS/stages" NCAP_AUDIT_DIR="$NCAP_ROOT/deploy/audits" "$CTX_BUILD/ncap-metricd"
ncap_wait_until 30 grep -qs 'password authentication failed for user' "$CTX_RUN/logs/metric-wrong.log" ||
  fail "ncap-metricd with ncap_publish's password: no authentication failure logged"
registered && fail "ncap-metricd registered with another role's password"
ncap_stop "$CTX_RUN/pids/metric-wrong.pid"
ncap_spawn metric env NCAP_PG="$(conninfo ncap_metric)" NCAP_PG_PASSWORD_FILE="$secrets/ncap_metric" \
  NCAP_KEYS_DIR="$CTX_KEYS/stages" NCAP_AUDIT_DIR="$NCAP_ROOT/deploy/audits" "$CTX_BUILD/ncap-metricd"
ncap_wait_until 30 registered || fail "ncap-metricd did not register with its own password file"
ncap_stop "$CTX_RUN/pids/metric.pid"
e2e_say "ncap-metricd connects with NCAP_PG_PASSWORD_FILE of its own role, not with another's"
e2e_say "PASS"
