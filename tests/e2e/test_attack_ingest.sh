#!/usr/bin/env bash
# The exhaustion and upload attacks of issue 11 on ncap-ingestd, against a running deployment (the
# whole pipeline), each refused or handled with a clear message while a good trust's submission,
# records and releases stay exactly as they were:
#   - a 2 MB file of one-column lines (999,998 wrong column counts): one problem kept with its
#     count and first 1,000 rows, ingest's peak RSS (VmHWM) under E2E_RSS_BOUND_MB (default 200;
#     the array of one problem per row took 777 MB), time printed;
#   - 50,000 local ids (the set of ids is SipHash under a random key per file, so ids crafted to
#     collide under the old unseeded FNV hash are ordinary ids now; time printed);
#   - 40,000 duplicated header columns: refused at the column limit, time printed;
#   - a local id of 3 KB: its row refused, the rest of the file stored (it once sank the file with
#     a btree index error);
#   - one trust opening 70 uploads while another trust's is in progress: the flood is refused
#     (uploads per trust, submission rate), the other trust's upload completes;
#   - a second client sending the rest of an upload under its token: refused, the owner finishes;
#   - a trust past its submission rate (--submission-rate 20/3600 here): told when to retry;
#   - a 3 MB message (past ZMQ_MAXMSGSIZE, 2 MB): the connection is closed, ingest goes on.
# The attack files' records carry no audit values, so validation refuses them and nothing of them
# is published: every latest.csv must be byte-identical after the attacks.
#
# Trusts prove who they are with CurveZMQ keys, as deployed (tests/e2e/lib.sh: the deployment's
# trust keys, with a pair made for each attacking trust before ingest starts), or, with
# E2E_TRUST_KEYS=0, state it (every daemon --insecure-plain).
# The raw client (a second connection, a flood, an oversized message) is Python's ctypes over
# libzmq, as no ncap command sends such requests. Run through tests/run.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

started=$SECONDS
rss_bound_mb=${E2E_RSS_BOUND_MB:-200}
rate_limit=20 rate_window=3600 # a token back every 180 s: no refill while the test runs, however slow
keys_on=${E2E_TRUST_KEYS:-1}
command -v python3 >/dev/null || fail "python3 is needed for the raw ZeroMQ client"

e2e_sim "$E2E_DIR/sim" 300 1 31
good_file=$(ls "$E2E_DIR"/sim/*.csv)
g=$(basename "$good_file" .csv)
attackers=(ZA1 ZB1 ZC1 ZD1 ZE1 ZF1 ZR1 ZT1 ZX1)

keys=$CTX_KEYS
if [ "$keys_on" = 1 ]; then
  for t in "${attackers[@]}"; do
    [ -f "$keys/trusts/$t.key" ] || e2e_ncap keys new "$keys/trusts/$t" >/dev/null
  done
else
  CTX_KEYS= # every daemon --insecure-plain, every client plain
fi
key_of() { if [ "$keys_on" = 1 ]; then echo "$keys/trusts/$1.key"; else echo -; fi; }
# as_trust T CMD...: CMD as a client of trust T (e2e_ncap takes T's key from NCAP_CLIENT_KEYS when
# trusts are authenticated).
as_trust() {
  shift
  "$@"
}
raw() { NCAP_CURVE_SERVER_KEY=$keys/stages/ingest.pub python3 "$E2E_DIR/raw_client.py" "$@"; }

e2e_deploy main
NCAP_SUBMISSION_RATE=$rate_limit/$rate_window e2e_start ingest 1
for stage in linkage validation metric publish; do e2e_start "$stage" 1; done
e2e_wait_registered ingest 1
e2e_say "pipeline up ($([ "$keys_on" = 1 ] && echo "trusts authenticated by CurveZMQ keys" || echo "trusts state who they are")); submission rate $rate_limit/$rate_window s"
psql_main() { ncap_pg_psql "$CTX_PGHOST" "$CTX_DB" "$1"; }
endpoint=$(psql_main "SELECT endpoint FROM ops.instance WHERE stage = 'ingest'")
ingest_pid=$(e2e_pid ingest)
submit() { # submit TRUST FILE: ncap submit as TRUST; output in OUT, status in RC, time in MS
  local t0
  t0=$(date +%s%N)
  RC=0
  OUT=$(as_trust "$1" e2e_ncap submit --timeout 300 --audit "$E2E_AUDIT" --trust "$1" "$2" 2>&1) ||
    RC=$?
  MS=$((($(date +%s%N) - t0) / 1000000))
}
sid_of() { sed -n 's/^submission \([0-9]*\):.*/\1/p' <<<"$1" | head -n 1; }

# --- the good trust, before: its submission, records, feedback and the releases ----------------
submit "$g" "$good_file"
[ "$RC" = 0 ] || fail "the good trust's submission was not accepted: $OUT"
g_sid=$(sid_of "$OUT")
e2e_drain
kept=$CTX_RUN/releases-before
e2e_keep_releases "$kept"
[ -n "$(e2e_releases)" ] || fail "no release after the good trust's submission"
good_state() {
  psql_main "SELECT count(*), sum(latest_version), md5(string_agg(local_id || ':' || latest_version, ',' ORDER BY local_id))
             FROM ingest.record WHERE trust = '$g'"
}
g_before=$(good_state)
as_trust "$g" e2e_ncap feedback "$g_sid" --trust "$g" --csv >"$CTX_RUN/good-feedback-before.csv" 2>&1 || true
e2e_say "good trust $g: submission $g_sid, $(wc -l <"$good_file") lines; releases kept"

# The attack files: every audit value empty, so validation refuses each stored record.
header=local_record_id,trust_code,site_code,date_of_birth,sex,arrival_datetime,residence_at_fracture,pre_fracture_mobility,amts_pre_op,fracture_type,fracture_side,pathological_fracture
rows() { # rows TRUST PREFIX N: N rows of TRUST, local ids PREFIX1..PREFIXN
  awk -v t="$1" -v p="$2" -v n="$3" 'BEGIN { for (i = 1; i <= n; i++) printf "%s%d,%s,%s01,,,,,,,,,\n", p, i, t, t }'
}
hwm_mb() { awk '/^VmHWM/ { print int($2 / 1024) }' "/proc/$ingest_pid/status"; }
rss_mb() { awk '/^VmRSS/ { print int($2 / 1024) }' "/proc/$ingest_pid/status"; }

# --- a 2 MB file of one-column lines ----------------------------------------------------------
f=$E2E_DIR/one-column.csv
{
  echo "$header"
  awk 'BEGIN { for (i = 0; i < 999998; i++) print "x" }'
} >"$f"
echo 5 >"/proc/$ingest_pid/clear_refs" # VmHWM from now on
before_mb=$(rss_mb)
submit ZF1 "$f"
peak_mb=$(hwm_mb)
[ "$RC" = 0 ] || fail "the one-column file got no receipt: $OUT"
grep -q "^submission [0-9]*: 999998 rows, 0 accepted, 0 unchanged, 999998 rejected$" <<<"$OUT" ||
  fail "receipt of the one-column file: $OUT"
grep -q "^row 2: wrong number of columns (the first: row has 1 fields but the header has 12 columns) (error, columns): 999,998 rows (first 10 listed: 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, ...)$" <<<"$OUT" ||
  fail "the receipt does not show the kept problem: $OUT"
sid=$(sid_of "$OUT")
stored=$(psql_main "SELECT count(*) || ' ' || sum(occurrences) || ' ' || max(array_length(first_rows, 1)) FROM ingest.problem WHERE submission_id = $sid")
[ "$stored" = "1 999998 1000" ] || fail "ingest.problem of the one-column file: \"$stored\" (rows, occurrences, rows listed), expected \"1 999998 1000\""
fb=$(as_trust ZF1 e2e_ncap feedback "$sid" --trust ZF1 2>&1) || true
grep -q "^problems: 999998 errors, 0 warnings$" <<<"$fb" || fail "feedback summary: $(head -n 5 <<<"$fb")"
grep -q "^row 2: wrong number of columns .*: 999,998 rows (first 1,000 listed: 2, 3, 4, .*, 1000, 1001, ...)$" <<<"$fb" ||
  fail "ncap feedback does not show the kept problem with its rows: $(tail -n 2 <<<"$fb" | cut -c 1-300)"
[ "$peak_mb" -lt "$rss_bound_mb" ] ||
  fail "ingest's peak RSS was $peak_mb MB storing the one-column file, over the bound of $rss_bound_mb MB"
e2e_say "2 MB of one-column lines: receipt in $MS ms, ingest's RSS $before_mb MB before, peak $peak_mb MB (bound $rss_bound_mb MB; 777 MB before the fix); 1 row in ingest.problem"
e2e_say "  ncap feedback: $(grep '^row 2:' <<<"$fb" | cut -c 1-150)..."

# --- 50,000 local ids --------------------------------------------------------------------------
f=$E2E_DIR/many-ids.csv
{
  echo "$header"
  rows ZC1 "c9f1-" 50000
} >"$f"
submit ZC1 "$f"
[ "$RC" = 0 ] && grep -q "^submission [0-9]*: 50000 rows, 50000 accepted, 0 unchanged, 0 rejected$" <<<"$OUT" ||
  fail "the file of 50,000 ids: $OUT"
e2e_say "50,000 local ids: stored, receipt in $MS ms (18 s with the unseeded FNV hash and crafted ids)"

# --- 40,000 duplicated header columns ----------------------------------------------------------
f=$E2E_DIR/wide-header.csv
{
  awk 'BEGIN { for (i = 0; i < 40000; i++) printf "%ssex", i ? "," : ""; print "" }'
  echo M
} >"$f"
submit ZE1 "$f"
[ "$RC" = 1 ] && grep -q "^ncap submit: file refused: the header has more than 1000 columns, the most a file may have: send only the columns of the nhfd dataset 2026.1$" <<<"$OUT" ||
  fail "40,000 duplicated header columns: exit $RC, $OUT"
e2e_say "40,000 duplicated header columns: refused in $MS ms (2.8 s when quadratic): ${OUT#ncap submit: }"

# --- a local id of 3 KB ------------------------------------------------------------------------
f=$E2E_DIR/long-id.csv
{
  echo "$header"
  rows ZD1 d 1
  awk 'BEGIN { for (i = 0; i < 3000; i++) printf "k"; print ",ZD1,ZD101,,,,,,,,," }'
  rows ZD1 e 1
} >"$f"
submit ZD1 "$f"
[ "$RC" = 0 ] && grep -q "^submission [0-9]*: 3 rows, 2 accepted, 0 unchanged, 1 rejected$" <<<"$OUT" ||
  fail "the file with a 3 KB local id: $OUT"
grep -q '^row 3: local_record_id: "local_record_id" is 3000 bytes long, longer than 128, the most a record identifier may have: use the trust.s own short record identifier (error, key_length)$' <<<"$OUT" ||
  fail "no key_length problem for the 3 KB local id: $OUT"
[ "$(psql_main "SELECT count(*) FROM ingest.record WHERE trust = 'ZD1'")" = 2 ] || fail "ZD1's other rows were not stored"
e2e_say "a 3 KB local id: its row refused, the other 2 stored: $(grep '^row 3:' <<<"$OUT" | cut -c 1-120)..."

# --- one trust's flood of uploads while another trust's is in progress -------------------------
cat >"$E2E_DIR/raw_client.py" <<'PY'
# A raw ZeroMQ client of ncap-ingestd (ctypes over libzmq; SubmitRequest/SubmitReply encoded by
# hand): what no ncap command sends. Key "-": plain; else a trust's secret key file, with ingest's
# public key in $NCAP_CURVE_SERVER_KEY.
import ctypes, ctypes.util, os, sys

Z = ctypes.CDLL(ctypes.util.find_library("zmq") or "libzmq.so.5")
Z.zmq_ctx_new.restype = ctypes.c_void_p
Z.zmq_socket.restype = ctypes.c_void_p
Z.zmq_socket.argtypes = [ctypes.c_void_p, ctypes.c_int]
Z.zmq_setsockopt.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t]
Z.zmq_connect.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
Z.zmq_send.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
Z.zmq_recv.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
Z.zmq_curve_public.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
DEALER, LINGER, RCVTIMEO = 5, 17, 27
CURVE_PUBLICKEY, CURVE_SECRETKEY, CURVE_SERVERKEY = 48, 49, 50
CTX = Z.zmq_ctx_new()


def setopt(s, opt, value):
    assert Z.zmq_setsockopt(s, opt, ctypes.create_string_buffer(value, len(value)), len(value)) == 0


def sock(endpoint, key, timeout_ms=60000):
    s = Z.zmq_socket(CTX, DEALER)
    setopt(s, LINGER, (0).to_bytes(4, "little"))
    setopt(s, RCVTIMEO, timeout_ms.to_bytes(4, "little"))
    if key != "-":
        secret = open(key).read().strip().encode()
        public = ctypes.create_string_buffer(41)
        assert Z.zmq_curve_public(public, secret) == 0
        setopt(s, CURVE_SERVERKEY, open(os.environ["NCAP_CURVE_SERVER_KEY"]).read().strip().encode())
        setopt(s, CURVE_PUBLICKEY, public.value)
        setopt(s, CURVE_SECRETKEY, secret)
    assert Z.zmq_connect(s, endpoint.encode()) == 0
    return s


def varint(n):
    out = bytearray()
    while True:
        out.append((n & 0x7F) | (0x80 if n >> 7 else 0))
        n >>= 7
        if not n:
            return bytes(out)


def read_varint(buf, i):
    n = shift = 0
    while True:
        n |= (buf[i] & 0x7F) << shift
        shift += 7
        i += 1
        if not buf[i - 1] & 0x80:
            return n, i


def field(num, value):
    if isinstance(value, int):
        return varint(num << 3) + varint(value)
    return varint(num << 3 | 2) + varint(len(value)) + value


def show(label, reply):
    print(label + ": " + reply[0] + (" " + reply[1] if reply[1] else ""))


def ask(s, token, audit, trust, seq, last, chunk):
    msg = (field(1, token.encode()) + field(2, audit.encode()) + field(3, trust.encode()) +
           field(4, b"attack.csv") + field(6, seq) + field(7, chunk) + field(8, int(last)))
    assert Z.zmq_send(s, msg, len(msg), 0) == len(msg)
    buf = ctypes.create_string_buffer(1 << 20)
    n = Z.zmq_recv(s, buf, len(buf), 0)
    if n < 0:
        return "no reply", ""
    r, i, raw = {}, 0, buf.raw[:n]
    while i < n:  # SubmitReply: 1 kind, 4 submission_id, 5 rows, 6 accepted, 8 rejected, 9 error
        key, i = read_varint(raw, i)
        if key & 7 == 0:
            v, i = read_varint(raw, i)
        else:
            ln, i = read_varint(raw, i)
            v, i = raw[i:i + ln], i + ln
        r.setdefault(key >> 3, v)
    kind = {0: "progress", 1: "receipt", 2: "refused"}.get(r.get(1, 0), "?")
    if kind == "refused":
        return kind, r.get(9, b"").decode()
    if kind == "receipt":
        return kind, "submission %d: %d rows, %d accepted, %d rejected" % (
            r.get(4, 0), r.get(5, 0), r.get(6, 0), r.get(8, 0))
    return kind, "%d bytes" % r.get(3, 0)


def evict(endpoint, audit, victim, victim_key, flooder, flooder_key, n, path):
    """The victim begins its file, the flooder begins n uploads, the victim sends the rest."""
    data = open(path, "rb").read()
    v = sock(endpoint, victim_key)
    show("victim begins", ask(v, "victim-upload", audit, victim, 0, False, data[:len(data) // 2]))
    f, seen = sock(endpoint, flooder_key), {}
    for i in range(n):
        kind, text = ask(f, "flood-%d" % i, audit, flooder, 0, False, data[:64])
        key = kind + (": " + text.split(":")[0] if text and kind == "refused" else "")
        seen.setdefault(key, [0, text])[0] += 1
    for key, (count, text) in seen.items():
        print("flooder: %d x %s" % (count, text if key.startswith("refused") else key))
    show("victim ends", ask(v, "victim-upload", audit, victim, 1, True, data[len(data) // 2:]))


def reuse(endpoint, audit, owner, owner_key, other, other_key, path, evil_path):
    """The owner begins; a second client of its trust and one of another trust send the rest
    under its token, the second also begins it again; then the owner sends the rest."""
    data, evil = open(path, "rb").read(), open(evil_path, "rb").read()
    o = sock(endpoint, owner_key)
    show("owner begins", ask(o, "owned-token", audit, owner, 0, False, data[:len(data) // 2]))
    s = sock(endpoint, owner_key)
    show("second client", ask(s, "owned-token", audit, owner, 1, True, evil))
    x = sock(endpoint, other_key)
    show("other trust", ask(x, "owned-token", audit, other, 1, True, evil))
    show("second client again", ask(s, "owned-token", audit, owner, 0, True, evil))
    show("owner ends", ask(o, "owned-token", audit, owner, 1, True, data[len(data) // 2:]))


def big(endpoint, audit, trust, key, mb):
    """One message of mb MB: ingest's ZMQ_MAXMSGSIZE closes the connection unread."""
    s = sock(endpoint, key, 10000)
    show("big message", ask(s, "big", audit, trust, 0, True, b"x" * (int(mb) << 20)))


cmd, args = sys.argv[1], sys.argv[2:]
{"evict": lambda: evict(*args[:6], int(args[6]), args[7]),
 "reuse": lambda: reuse(*args), "big": lambda: big(*args)}[cmd]()
PY
f=$E2E_DIR/victim.csv
{
  echo "$header"
  rows ZB1 b 200
} >"$f"
out=$(raw evict "$endpoint" "$E2E_AUDIT" ZB1 "$(key_of ZB1)" ZA1 "$(key_of ZA1)" 70 "$f" 2>&1) ||
  fail "raw client (evict): $out"
grep -q "^victim begins: progress" <<<"$out" || fail "the victim's upload did not begin: $out"
grep -q "^victim ends: receipt submission [0-9]*: 200 rows, 200 accepted, 0 rejected$" <<<"$out" ||
  fail "trust ZB1's upload did not complete while ZA1 opened 70 uploads: $out"
grep -q "^flooder: 4 x progress$" <<<"$out" || fail "ZA1 had other than 4 uploads in progress: $out"
grep -q "^flooder: 16 x too many uploads in progress for trust ZA1: 4, the most one trust may have at once" <<<"$out" ||
  fail "ZA1's uploads past 4 were not refused as such: $out"
grep -q "^flooder: 50 x too many submissions from trust ZA1: $rate_limit in the last $rate_window s, the most one trust may begin; retry after [0-9]* s$" <<<"$out" ||
  fail "ZA1's begins past its rate were not refused as such: $out"
e2e_say "ZA1 opened 70 uploads while ZB1's was in progress; ZB1's completed:"
while read -r line; do e2e_say "  $line"; done <<<"$out"

# --- a second client with an upload's token ---------------------------------------------------
f=$E2E_DIR/owner.csv
evil=$E2E_DIR/evil.csv
{
  echo "$header"
  rows ZT1 t 100
} >"$f"
rows ZT1 EVIL 3 >"$evil"
out=$(raw reuse "$endpoint" "$E2E_AUDIT" ZT1 "$(key_of ZT1)" ZX1 "$(key_of ZX1)" "$f" "$evil" 2>&1) ||
  fail "raw client (reuse): $out"
refusal='refused chunk refused: upload "owned-token" was begun by another connection, and only the connection that began an upload may continue it: send the file again under a new token'
for who in "second client" "other trust" "second client again"; do
  grep -qxF "$who: $refusal" <<<"$out" || fail "$who was not refused: $out"
done
grep -q "^owner ends: receipt submission [0-9]*: 100 rows, 100 accepted, 0 rejected$" <<<"$out" ||
  fail "the owner's upload did not complete as sent: $out"
[ "$(psql_main "SELECT count(*) FROM ingest.record WHERE local_id LIKE 'EVIL%'")" = 0 ] ||
  fail "rows sent under another client's token were stored"
e2e_say "a second client with ZT1's token (same trust, another trust, restarting it): refused; the owner's file completed as sent"
e2e_say "  ${refusal#refused }"

# --- the submission rate ---------------------------------------------------------------------
f=$E2E_DIR/rate.csv
{
  echo "$header"
  rows ZR1 r 1
} >"$f"
for i in $(seq 1 "$rate_limit"); do
  submit ZR1 "$f"
  [ "$RC" = 0 ] || fail "ZR1's submission $i of $rate_limit was refused: $OUT"
done
submit ZR1 "$f"
[ "$RC" = 1 ] && grep -q "^ncap submit: too many submissions from trust ZR1: $rate_limit in the last $rate_window s, the most one trust may begin; retry after [0-9]* s$" <<<"$OUT" ||
  fail "ZR1's submission past its rate: exit $RC, $OUT"
e2e_say "ZR1's submission $((rate_limit + 1)) within $rate_window s: ${OUT#ncap submit: }"

# --- a message past ZMQ_MAXMSGSIZE -----------------------------------------------------------
out=$(raw big "$endpoint" "$E2E_AUDIT" ZA1 "$(key_of ZA1)" 3 2>&1) || fail "raw client (big): $out"
[ "$out" = "big message: no reply" ] || fail "a 3 MB message was answered: $out"
ncap_pid_alive "$CTX_RUN/pids/ingest-1.pid" || fail "ingest died after a 3 MB message"
e2e_say "a 3 MB message: the connection closed unanswered (ZMQ_MAXMSGSIZE 2 MB); ingest goes on"

# --- the good trust, after: nothing changed -------------------------------------------------
e2e_drain
[ "$(good_state)" = "$g_before" ] || fail "the good trust's records changed: $(good_state), before $g_before"
as_trust "$g" e2e_ncap feedback "$g_sid" --trust "$g" --csv >"$CTX_RUN/good-feedback-after.csv" 2>&1 || true
cmp -s "$CTX_RUN/good-feedback-before.csv" "$CTX_RUN/good-feedback-after.csv" ||
  fail "the good trust's feedback changed (see $CTX_RUN/good-feedback-*.csv)"
e2e_expect_same_releases "$kept"
e2e_say "good trust $g: records, feedback and every release as before the attacks"

e2e_stop_all
e2e_say "PASS in $((SECONDS - started)) s"
