# shellcheck shell=bash
# Functions shared by deploy/local/{up,down,ncap}, tests/run and tests/e2e: dependencies, build, a
# private PostgreSQL 15 cluster on a unix socket, and daemons started from pidfiles. Sourced, not run.
#
# A deployment is described by a few globals that the caller sets before using the daemon functions:
#   NCAP_ROOT      repository root (set here)
#   CTX_BUILD      build directory holding the binaries
#   CTX_RUN        folder for logs/ and pids/
#   CTX_PGHOST     socket directory of the cluster (port NCAP_PGPORT), CTX_DB the database
#   CTX_KEY        pseudonym key file (linkage only), CTX_OUT releases folder (publish only)
#   CTX_AUDITS     audit definitions folder (deploy/audits when unset or empty)
#   CTX_KEYS       CurveZMQ keys (ncap_ensure_keys): stages/<stage>.key|.pub, every daemon's
#                  --keys, and trusts/<ODS>.key|.pub, ingest's --trust-keys and the clients'
#                  NCAP_CLIENT_KEYS; empty: every daemon runs --insecure-plain (a test that asks)
#   CTX_METRICS_LISTEN  every daemon's --metrics-listen (unset: 127.0.0.1:0, a free port each,
#                  registered in ops.instance.metrics: ncap_metrics_urls); empty: none

NCAP_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
NCAP_PG_BIN=/usr/lib/postgresql/15/bin
NCAP_PG_SUPERUSER=ncap_admin
# shellcheck disable=SC2034 # used by the scripts that source this file
NCAP_STAGES=(ingest linkage validation metric publish)
NCAP_DEPS=(build-essential cmake pkg-config libzmq3-dev libprotobuf-c-dev protobuf-c-compiler libpq-dev
  libcmocka-dev libsodium-dev libjansson-dev libyaml-dev libmicrohttpd-dev postgresql-15
  postgresql-client-15 docker-compose jq clang-format clang-14 libclang-rt-14-dev llvm-14 python3
  python3-yaml)
# What tests/run needs besides: promtool (tests/e2e/test_monitoring.sh checks deploy/monitoring),
# kubectl (test_k8s.sh renders deploy/k8s), curl and openssl (test_web.sh: HTTP(S) and its
# certificates), headless Chromium, its WebDriver and tidy (test_portal.sh drives the portal and
# checks its accessibility).
NCAP_TEST_DEPS=(prometheus kubectl:kubernetes-client curl openssl chromium chromedriver:chromium-driver
  tidy)

ncap_say() { printf '%s\n' "$*" >&2; }
ncap_die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

# --- privileges ---------------------------------------------------------------------------------

# Runs a command as root: directly when root, through sudo when it exists.
ncap_as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    ncap_die "need root to run \"$*\" and sudo is not installed"
  fi
}

# Runs a command as the owner of the PostgreSQL cluster: "postgres" when we are root (initdb refuses
# root), ourselves otherwise.
ncap_as_pg() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# --- dependencies ---------------------------------------------------------------------------------

# ncap_missing_packages PKG...: those of the packages that are not installed. An entry
# COMMAND:PACKAGE is met by the command from anywhere (kubectl may come from Kubernetes' own
# packages, which conflict with Debian's kubernetes-client), else needs PACKAGE.
ncap_missing_packages() {
  local p
  for p in "$@"; do
    if [[ $p == *:* ]]; then
      command -v "${p%%:*}" >/dev/null || printf '%s\n' "${p#*:}"
    elif [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != "install ok installed" ]; then
      printf '%s\n' "$p"
    fi
  done
}

# Installs the Debian packages of NCAP_DEPS that are missing (ncap_install_test_deps: and those of
# NCAP_TEST_DEPS).
ncap_install_deps() {
  ncap_install_packages "${NCAP_DEPS[@]}"
}
ncap_install_test_deps() {
  ncap_install_packages "${NCAP_DEPS[@]}" "${NCAP_TEST_DEPS[@]}"
}

# ncap_install_packages PKG...: installs those that are missing; updates the package lists only
# when a first attempt fails (a fresh machine may have none).
ncap_install_packages() {
  local missing
  mapfile -t missing < <(ncap_missing_packages "$@")
  [ "${#missing[@]}" -eq 0 ] && return 0
  ncap_say "installing missing packages: ${missing[*]}"
  local install=(env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}")
  if ! ncap_as_root "${install[@]}"; then
    ncap_say "install failed, updating the package lists and retrying"
    ncap_as_root apt-get update
    ncap_as_root "${install[@]}"
  fi
}

# --- build ----------------------------------------------------------------------------------------

# ncap_build DIR LOG [-DNAME=VALUE...]: builds the tree into DIR, output to LOG, whose tail is shown
# when the build fails. Configures first when DIR has no cache yet or a value differs from it
# (the build itself reconfigures when a CMakeLists.txt changes).
ncap_build() {
  local dir=$1 log=$2 configure=0 def
  shift 2
  [ -f "$dir/CMakeCache.txt" ] || configure=1
  for def in "$@"; do
    def=${def#-D}
    grep -q "^${def%%=*}:[A-Z]*=${def#*=}\$" "$dir/CMakeCache.txt" 2>/dev/null || configure=1
  done
  mkdir -p "$(dirname "$log")"
  if ! {
    if [ "$configure" -eq 1 ]; then cmake -S "$NCAP_ROOT" -B "$dir" "$@"; fi &&
      cmake --build "$dir" -j"$(nproc)"
  } >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    ncap_die "build into \"$dir\" failed, full output in \"$log\""
  fi
}

# --- PostgreSQL cluster ---------------------------------------------------------------------------
# A cluster lives in one folder BASE: BASE/data (PGDATA), BASE/postgres.log and, when the path is
# short enough for a unix socket, BASE/sock. Listening on the socket only, superuser ncap_admin
# with trust authentication: it is private to this machine's user.

NCAP_PGPORT=5432

# Prints the folder that holds the cluster for BASE. When we are root, the server runs as
# "postgres", which must be able to reach it; if it cannot (a repository under /root), the cluster
# goes to a folder under /var/tmp named after BASE. The parent of BASE must exist.
ncap_pg_dir() {
  local base=$1
  if [ "$(id -u)" -ne 0 ] || runuser -u postgres -- test -x "$(dirname "$base")" 2>/dev/null; then
    printf '%s\n' "$base"
  else
    printf '/var/tmp/ncap-pg-%s\n' "$(printf '%s' "$base" | cksum | cut -d' ' -f1)"
  fi
}

# Prints the socket directory for the cluster in BASE: BASE/sock, or a short folder under /tmp when
# that path would be too long for a unix socket (about 107 bytes including ".s.PGSQL.5432").
ncap_pg_sockdir() {
  local base=$1
  if [ "${#base}" -le 80 ]; then
    printf '%s/sock\n' "$base"
  else
    printf '/tmp/ncap-%s\n' "$(printf '%s' "$base" | cksum | cut -d' ' -f1)"
  fi
}

# ncap_pg_conninfo SOCKDIR DB USER: SOCKDIR may list several servers, "A,B" (a primary and its
# standby): libpq then tries each in turn and keeps the one that takes writes.
ncap_pg_conninfo() {
  local rw=
  [[ $1 != *,* ]] || rw=' target_session_attrs=read-write'
  printf 'host=%s port=%s dbname=%s user=%s%s\n' "$1" "$NCAP_PGPORT" "$2" "$3" "$rw"
}

ncap_pg_running() {
  local base=$1
  [ -f "$base/data/PG_VERSION" ] && ncap_as_pg "$NCAP_PG_BIN/pg_ctl" -D "$base/data" status >/dev/null 2>&1
}

# ncap_pg_up BASE: creates the cluster in BASE if it does not exist, starts it if it is not running
# and creates database "ncap" if missing. Sets PG_BASE and PG_SOCK (the socket directory).
ncap_pg_up() {
  mkdir -p "$(dirname "$1")"
  PG_BASE=$(ncap_pg_dir "$1")
  PG_SOCK=$(ncap_pg_sockdir "$PG_BASE")
  [ "$PG_BASE" = "$1" ] || ncap_say "postgres cannot reach \"$(dirname "$1")\": cluster kept in \"$PG_BASE\""
  mkdir -p "$PG_BASE" "$PG_SOCK"
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres:postgres "$PG_BASE" "$PG_SOCK"
  fi
  chmod 700 "$PG_BASE" "$PG_SOCK"
  if [ ! -f "$PG_BASE/data/PG_VERSION" ]; then
    ncap_say "creating PostgreSQL cluster in \"$PG_BASE/data\""
    # text compared byte by byte (the C collation: ncap's order, whatever the machine's $LANG),
    # characters classified as UTF-8; as docker-compose.yml and deploy/k8s/postgres.yaml set them
    ncap_as_pg "$NCAP_PG_BIN/initdb" -D "$PG_BASE/data" -U "$NCAP_PG_SUPERUSER" --auth=trust -E UTF8 \
      --lc-collate=C --lc-ctype=C.UTF-8 >"$PG_BASE/initdb.log" 2>&1 || {
      cat "$PG_BASE/initdb.log" >&2
      ncap_die "initdb failed in \"$PG_BASE/data\""
    }
    ncap_as_pg sh -c "cat >>'$PG_BASE/data/postgresql.conf'" <"$NCAP_ROOT/deploy/local/postgresql.ncap.conf"
  fi
  if ! ncap_pg_running "$PG_BASE"; then
    if ! ncap_as_pg "$NCAP_PG_BIN/pg_ctl" -D "$PG_BASE/data" -l "$PG_BASE/postgres.log" -w -t 60 \
      -o "-k '$PG_SOCK' -p $NCAP_PGPORT -c listen_addresses=''" start >/dev/null; then
      tail -n 20 "$PG_BASE/postgres.log" >&2
      ncap_die "could not start PostgreSQL in \"$PG_BASE/data\""
    fi
  fi
  ncap_pg_wait_ready "$PG_SOCK" 30 || ncap_die "PostgreSQL in \"$PG_BASE/data\" does not accept connections"
  ncap_pg_create_db "$PG_SOCK" ncap
}

# ncap_pg_standby_up PRIMARY_BASE STANDBY_BASE: a streaming standby of the running cluster in
# PRIMARY_BASE, made with pg_basebackup into STANDBY_BASE (kept when it exists) and started on its
# own socket directory, and made the primary's synchronous standby (synchronous_standby_names,
# synchronous_commit on): from then on a commit returns only once it is on both servers. The standby
# itself names no synchronous standby, so once promoted it commits on its own. Sets STANDBY_SOCK.
ncap_pg_standby_up() {
  local primary standby psock name=ncap_standby
  primary=$(ncap_pg_dir "$1")
  psock=$(ncap_pg_sockdir "$primary")
  standby=$(ncap_pg_dir "$2")
  STANDBY_SOCK=$(ncap_pg_sockdir "$standby")
  mkdir -p "$standby" "$STANDBY_SOCK"
  [ "$(id -u)" -ne 0 ] || chown postgres:postgres "$standby" "$STANDBY_SOCK"
  chmod 700 "$standby" "$STANDBY_SOCK"
  if [ ! -f "$standby/data/PG_VERSION" ]; then
    ncap_say "making a standby of \"$primary/data\" in \"$standby/data\""
    ncap_as_pg pg_basebackup -h "$psock" -p "$NCAP_PGPORT" -U "$NCAP_PG_SUPERUSER" -D "$standby/data" \
      -X stream -c fast >"$standby/basebackup.log" 2>&1 || {
      cat "$standby/basebackup.log" >&2
      ncap_die "pg_basebackup of \"$primary/data\" failed"
    }
    ncap_as_pg touch "$standby/data/standby.signal"
    ncap_as_pg sh -c "cat >>'$standby/data/postgresql.auto.conf'" <<CONF
primary_conninfo = 'host=$psock port=$NCAP_PGPORT user=$NCAP_PG_SUPERUSER application_name=$name'
synchronous_standby_names = ''
CONF
  fi
  if ! ncap_pg_running "$standby"; then
    ncap_as_pg "$NCAP_PG_BIN/pg_ctl" -D "$standby/data" -l "$standby/postgres.log" -w -t 60 \
      -o "-k '$STANDBY_SOCK' -p $NCAP_PGPORT -c listen_addresses=''" start >/dev/null || {
      tail -n 20 "$standby/postgres.log" >&2
      ncap_die "could not start the standby in \"$standby/data\""
    }
  fi
  ncap_pg_psql "$psock" postgres "ALTER SYSTEM SET synchronous_standby_names = '\"$name\"'" >/dev/null
  ncap_pg_psql "$psock" postgres "SELECT pg_reload_conf()" >/dev/null
  ncap_wait_until 30 ncap_pg_is_sync "$psock" "$name" ||
    ncap_die "the standby in \"$standby/data\" is not streaming synchronously after 30 s"
}

# ncap_pg_is_sync SOCKDIR NAME: true when the standby NAME streams synchronously from SOCKDIR's cluster.
ncap_pg_is_sync() {
  [ "$(ncap_pg_psql "$1" postgres "SELECT sync_state FROM pg_stat_replication WHERE application_name = '$2'")" = sync ]
}

# ncap_pg_promote BASE: promotes the standby in BASE to a primary (pg_ctl promote, waiting).
ncap_pg_promote() {
  ncap_as_pg "$NCAP_PG_BIN/pg_ctl" -D "$(ncap_pg_dir "$1")/data" -w -t 60 promote >/dev/null
}

# ncap_pg_down BASE: stops the cluster in BASE if it runs (fast shutdown: clean, no waiting for clients).
ncap_pg_down() {
  local base
  base=$(ncap_pg_dir "$1")
  if ncap_pg_running "$base"; then
    ncap_as_pg "$NCAP_PG_BIN/pg_ctl" -D "$base/data" -m fast -w -t 60 stop >/dev/null
  fi
}

# ncap_pg_wait_ready SOCKDIR SECONDS
ncap_pg_wait_ready() {
  local sock=$1 deadline=$((SECONDS + $2))
  until pg_isready -q -h "$sock" -p "$NCAP_PGPORT"; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.2
  done
}

# ncap_pg_psql SOCKDIR DB SQL: runs SQL as the superuser, prints unaligned tuples.
ncap_pg_psql() {
  psql -X -q -v ON_ERROR_STOP=1 -tA -h "$1" -p "$NCAP_PGPORT" -U "$NCAP_PG_SUPERUSER" -d "$2" -c "$3"
}

# ncap_pg_create_db SOCKDIR DB: creates database DB if it does not exist.
ncap_pg_create_db() {
  local sock=$1 db=$2
  if [ -z "$(ncap_pg_psql "$sock" postgres "SELECT 1 FROM pg_database WHERE datname = '$db'")" ]; then
    createdb -h "$sock" -p "$NCAP_PGPORT" -U "$NCAP_PG_SUPERUSER" -E UTF8 "$db"
  fi
}

# ncap_pg_recreate_db SOCKDIR DB: drops DB (closing its connections) and creates it empty.
ncap_pg_recreate_db() {
  local sock=$1 db=$2
  PGOPTIONS="-c client_min_messages=warning" \
    dropdb -h "$sock" -p "$NCAP_PGPORT" -U "$NCAP_PG_SUPERUSER" --if-exists --force "$db"
  createdb -h "$sock" -p "$NCAP_PGPORT" -U "$NCAP_PG_SUPERUSER" -E UTF8 "$db"
}

# ncap_pg_clone_db SOCKDIR TEMPLATE DB: drops DB (closing its connections) and creates it as a copy
# of database TEMPLATE, to which nothing may be connected, with TEMPLATE's privileges on the
# database itself (GRANT ... ON DATABASE, which a copy does not take over), checked equal.
ncap_pg_clone_db() {
  local sock=$1 template=$2 db=$3
  PGOPTIONS="-c client_min_messages=warning" \
    dropdb -h "$sock" -p "$NCAP_PGPORT" -U "$NCAP_PG_SUPERUSER" --if-exists --force "$db" &&
    createdb -h "$sock" -p "$NCAP_PGPORT" -U "$NCAP_PG_SUPERUSER" -T "$template" "$db" &&
    ncap_pg_psql "$sock" postgres "DO \$\$
DECLARE g record;
BEGIN
  IF (SELECT datacl FROM pg_database WHERE datname = '$template') IS NULL THEN
    RETURN;
  END IF;
  EXECUTE format('REVOKE ALL ON DATABASE %I FROM PUBLIC', '$db');
  FOR g IN SELECT a.privilege_type AS priv, a.is_grantable AS opt,
      CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(a.grantee::regrole::text) END AS who
    FROM pg_database d, aclexplode(d.datacl) a WHERE d.datname = '$template'
  LOOP
    EXECUTE format('GRANT %s ON DATABASE %I TO %s%s', g.priv, '$db', g.who,
                   CASE WHEN g.opt THEN ' WITH GRANT OPTION' ELSE '' END);
  END LOOP;
  IF (SELECT array_agg(x::text ORDER BY x::text) FROM pg_database, unnest(datacl) x WHERE datname = '$db')
     IS DISTINCT FROM
     (SELECT array_agg(x::text ORDER BY x::text) FROM pg_database, unnest(datacl) x WHERE datname = '$template')
  THEN
    RAISE EXCEPTION 'the privileges on database % differ from those on %', '$db', '$template';
  END IF;
END \$\$" >/dev/null
}

# --- secrets --------------------------------------------------------------------------------------

# ncap_ensure_key FILE: creates the pseudonymisation key (64 hex characters, mode 600) once. The
# key is never printed.
ncap_ensure_key() {
  local file=$1
  [ -s "$file" ] && return 0
  mkdir -p "$(dirname "$file")"
  (
    umask 077
    od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$file.tmp"
    mv "$file.tmp" "$file"
  )
}

# ncap_ensure_keys DIR: the CurveZMQ keys of a deployment, made once (existing keys are kept):
# DIR/stages/<stage>.key|.pub for the five stages and the web daemon (ingest admits web.pub as the
# trusts' HTTP gateway) and DIR/trusts/<ODS>.key|.pub for every trust
# code the simulator can produce (`ncap sim --trusts K` for any K). Secret keys are mode 600.
ncap_ensure_keys() {
  local dir=$1
  mkdir -p "$dir"
  chmod 700 "$dir"
  if ! "$CTX_BUILD/ncap" keys stages "$dir/stages" >/dev/null ||
    ! "$CTX_BUILD/ncap" keys trusts "$dir/trusts" >/dev/null; then
    ncap_die "could not make the CurveZMQ keys in \"$dir\""
  fi
}

# ncap_client_env: sets the array NCAP_CLIENT_ENV to the environment of a client of ingest that
# speaks for any trust with that trust's key (NCAP_CURVE_SERVER_KEY, NCAP_CLIENT_KEYS) from
# CTX_KEYS; empty when CTX_KEYS is (a plain client). Use as: env "${NCAP_CLIENT_ENV[@]}" CMD.
ncap_client_env() {
  NCAP_CLIENT_ENV=()
  [ -n "${CTX_KEYS:-}" ] || return 0
  # shellcheck disable=SC2034 # used by the callers
  NCAP_CLIENT_ENV=(NCAP_CURVE_SERVER_KEY="$CTX_KEYS/stages/ingest.pub" NCAP_CLIENT_KEYS="$CTX_KEYS/trusts")
}

# --- daemons --------------------------------------------------------------------------------------

ncap_stage_bin() {
  case $1 in
    ingest) echo ncap-ingestd ;;
    linkage) echo ncap-linkd ;;
    validation) echo ncap-validated ;;
    metric) echo ncap-metricd ;;
    publish) echo ncap-publishd ;;
    *) ncap_die "unknown stage \"$1\"" ;;
  esac
}

ncap_stage_role() {
  case $1 in
    ingest) echo ncap_ingest ;;
    linkage) echo ncap_linkage ;;
    validation) echo ncap_validation ;;
    metric) echo ncap_metric ;;
    publish) echo ncap_publish ;;
    *) ncap_die "unknown stage \"$1\"" ;;
  esac
}

# Prints the superuser conninfo of the current deployment.
ncap_admin_pg() {
  ncap_pg_conninfo "$CTX_PGHOST" "$CTX_DB" "$NCAP_PG_SUPERUSER"
}

# The reference data shipped in deploy/refdata, as KIND:FILE (`ncap refdata load KIND FILE`).
NCAP_REFDATA_SHIPPED=(imd:imd2019_lsoa11_england.csv ods:ods_etr.csv)

# ncap_refdata_load_shipped LOG: loads the reference data shipped in the repository
# (deploy/refdata/README.md) into CTX_DB: deprivation by LSOA before linkage starts, the NHS trusts
# and their regions before publish does; ncap's output appended to LOG. Loading it again changes
# nothing. Dies naming the file that failed.
ncap_refdata_load_shipped() {
  local log=$1 kind_file
  for kind_file in "${NCAP_REFDATA_SHIPPED[@]}"; do
    NCAP_PG=$(ncap_admin_pg) "$CTX_BUILD/ncap" refdata load "${kind_file%%:*}" \
      "$NCAP_ROOT/deploy/refdata/${kind_file#*:}" >>"$log" 2>&1 ||
      ncap_die "could not load deploy/refdata/${kind_file#*:}, see $log"
  done
}

# ncap_pid_alive PIDFILE: true when the process recorded in PIDFILE runs and is still one of
# CTX_BUILD's programs (a recycled pid is not taken for ours).
ncap_pid_alive() {
  local pidfile=$1 pid
  [ -f "$pidfile" ] || return 1
  pid=$(<"$pidfile")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$CTX_BUILD/"
}

# ncap_spawn NAME CMD...: starts CMD in the background in its own session (it outlives the calling
# shell and terminal), stdout and stderr appended to CTX_RUN/logs/NAME.log, pid in
# CTX_RUN/pids/NAME.pid. Returns 1 without starting anything when NAME is already running.
ncap_spawn() {
  local name=$1
  shift
  local pidfile="$CTX_RUN/pids/$name.pid"
  mkdir -p "$CTX_RUN/logs" "$CTX_RUN/pids"
  ncap_pid_alive "$pidfile" && return 1
  setsid "$@" </dev/null >>"$CTX_RUN/logs/$name.log" 2>&1 &
  echo $! >"$pidfile"
}

# ncap_stage_start STAGE INDEX [ARG...]: starts instance INDEX of STAGE connected as the stage's own
# role, with the stage keys of CTX_KEYS (ingest also the trusts' public keys), or --insecure-plain
# when CTX_KEYS is empty, and the daemon's flags ARG... (e.g. --batch 10). Only linkage gets the
# pseudonym key and only publish the releases folder and its interval ($NCAP_PUBLISH_INTERVAL, 2 s
# unless set; --interval in ARG... wins).
ncap_stage_start() {
  local stage=$1 index=$2 bin role
  shift 2
  bin=$(ncap_stage_bin "$stage")
  role=$(ncap_stage_role "$stage")
  local env=(NCAP_PG="$(ncap_pg_conninfo "$CTX_PGHOST" "$CTX_DB" "$role")"
    NCAP_AUDIT_DIR="${CTX_AUDITS:-$NCAP_ROOT/deploy/audits}" NCAP_LOG_LEVEL="${NCAP_LOG_LEVEL:-info}")
  local metrics=${CTX_METRICS_LISTEN-127.0.0.1:0}
  [ -z "$metrics" ] || env+=(NCAP_METRICS_LISTEN="$metrics")
  if [ -n "${CTX_KEYS:-}" ]; then
    env+=(NCAP_KEYS_DIR="$CTX_KEYS/stages")
    [ "$stage" != ingest ] || env+=(NCAP_TRUST_KEYS="$CTX_KEYS/trusts")
  else
    env+=(NCAP_INSECURE_PLAIN=1)
  fi
  case $stage in
    linkage) env+=(NCAP_PSEUDONYM_KEY_FILE="$CTX_KEY") ;;
    # a local deployment publishes within a couple of seconds (a deployment's default: 60)
    publish) env+=(NCAP_OUT="$CTX_OUT" NCAP_PUBLISH_INTERVAL="${NCAP_PUBLISH_INTERVAL:-2}") ;;
  esac
  ncap_spawn "$stage-$index" env "${env[@]}" "$CTX_BUILD/$bin" "$@"
}

# ncap_web_start INDEX [ARG...]: starts instance INDEX of ncap-webd (services/web) as role ncap_web,
# serving CTX_OUT (the portal at /site/, the release files, the read API) on CTX_WEB_LISTEN (unset:
# 127.0.0.1:0, a free port: ncap_web_url says which), and the trusts' API into the live ingest
# registered in ops.instance, with the stage keys of CTX_KEYS (--insecure-plain when it is empty).
ncap_web_start() {
  local index=$1 ingest
  shift
  local env=(NCAP_PG="$(ncap_pg_conninfo "$CTX_PGHOST" "$CTX_DB" ncap_web)" NCAP_RELEASES="$CTX_OUT"
    NCAP_WEB_LISTEN="${CTX_WEB_LISTEN:-127.0.0.1:0}" NCAP_LOG_LEVEL="${NCAP_LOG_LEVEL:-info}")
  local metrics=${CTX_METRICS_LISTEN-127.0.0.1:0}
  [ -z "$metrics" ] || env+=(NCAP_METRICS_LISTEN="$metrics")
  if [ -n "${CTX_KEYS:-}" ]; then
    env+=(NCAP_KEYS_DIR="$CTX_KEYS/stages")
  else
    env+=(NCAP_INSECURE_PLAIN=1)
  fi
  ingest=$(ncap_pg_psql "$CTX_PGHOST" "$CTX_DB" "SELECT endpoint FROM ops.instance WHERE stage = 'ingest'
    AND endpoint IS NOT NULL AND heartbeat_at > now() - interval '5 seconds' ORDER BY started_at DESC LIMIT 1" 2>/dev/null || true)
  [ -z "$ingest" ] || env+=(NCAP_INGEST="$ingest")
  ncap_spawn "web-$index" env "${env[@]}" "$CTX_BUILD/ncap-webd" "$@"
}

# ncap_web_url INDEX: prints the URL instance INDEX of ncap-webd serves (from its log), waiting up
# to 15 s for it to say; 1 when it does not.
ncap_web_url() {
  local log="$CTX_RUN/logs/web-$1.log" url="" deadline=$((SECONDS + 15))
  while [ -z "$url" ]; do
    url=$(jq -r 'select(.msg == "serving the portal and the API") | .url' "$log" 2>/dev/null | tail -n 1)
    [ -n "$url" ] && break
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.2
  done
  printf '%s\n' "$url"
}

# ncap_metrics_urls: prints "STAGE URL" for each live instance that serves metrics (/metrics,
# /healthz and /readyz under URL), stages in flow order.
ncap_metrics_urls() {
  ncap_pg_psql "$CTX_PGHOST" "$CTX_DB" "SELECT stage || ' ' || metrics FROM ops.instance
    WHERE metrics IS NOT NULL AND heartbeat_at > now() - interval '5 seconds'
    ORDER BY array_position(ARRAY['ingest', 'linkage', 'validation', 'metric', 'publish'], stage),
    metrics"
}

# ncap_metrics_targets FILE: writes the live instances' metrics listeners as a Prometheus file_sd
# target list (deploy/monitoring/prometheus.yml reads deploy/local/run/prometheus-targets.json).
ncap_metrics_targets() {
  local file=$1
  ncap_metrics_urls | jq -R -s 'split("\n") | map(select(. != "") | split(" ")
    | {targets: [.[1] | sub("^http://"; "")]})' >"$file.tmp" &&
    mv "$file.tmp" "$file"
}

# ncap_stop PIDFILE...: SIGTERM to each running process, then SIGKILL to those still alive after
# 15 seconds. Pidfiles are removed.
ncap_stop() {
  local f pids=() pid
  for f in "$@"; do
    if ncap_pid_alive "$f"; then
      pid=$(<"$f")
      kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid")
    fi
  done
  local deadline=$((SECONDS + 15)) alive
  while :; do
    alive=()
    for pid in "${pids[@]}"; do
      kill -0 "$pid" 2>/dev/null && alive+=("$pid")
    done
    [ "${#alive[@]}" -eq 0 ] && break
    if [ "$SECONDS" -ge "$deadline" ]; then
      ncap_say "still running after 15 s, killing: ${alive[*]}"
      kill -KILL "${alive[@]}" 2>/dev/null || true
      break
    fi
    sleep 0.2
  done
  rm -f "$@"
}

# ncap_wait_until SECONDS CMD...: runs CMD every 0.2 s until it succeeds; 1 on timeout.
ncap_wait_until() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.2
  done
}

# --- the local deployment (deploy/local) ----------------------------------------------------------

# Sets the globals of the local deployment: build/ for binaries, deploy/local/data for the cluster,
# the keys and the releases, deploy/local/run for logs and pidfiles.
ncap_local_ctx() {
  LOCAL_DATA=$NCAP_ROOT/deploy/local/data
  CTX_BUILD=$NCAP_ROOT/build
  CTX_RUN=$NCAP_ROOT/deploy/local/run
  CTX_PGHOST=$(ncap_pg_sockdir "$(ncap_pg_dir "$LOCAL_DATA/pg")")
  # with a standby (deploy/local/up --standby), every connection names both servers
  local standby
  standby=$(ncap_pg_dir "$LOCAL_DATA/pg-standby")
  [ ! -f "$standby/data/PG_VERSION" ] || CTX_PGHOST+=",$(ncap_pg_sockdir "$standby")"
  CTX_DB=ncap
  CTX_KEY=$LOCAL_DATA/pseudonym.key
  CTX_KEYS=$LOCAL_DATA/keys
  CTX_OUT=$LOCAL_DATA/releases
  NCAP_BUILT_STAMP=$CTX_BUILD/.ncap-local-built
}

# Builds build/ without sanitizers (incremental, quiet unless it fails); NCAP_BUILT_STAMP marks
# when it last succeeded.
ncap_local_build() {
  mkdir -p "$CTX_RUN"
  ncap_build "$CTX_BUILD" "$CTX_RUN/build.log" -DNCAP_SANITIZE=OFF
  touch "$NCAP_BUILT_STAMP"
}
