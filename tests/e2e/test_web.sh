#!/usr/bin/env bash
# ncap-webd on a real pipeline and a real socket: a simulated submission through every stage to a
# release, then the server (as role ncap_web) serves the releases folder (/ redirects to /site/,
# the release files byte for byte with their ETag, HEAD, 304), and the read API's rows equal the
# release files, every column: latest.json's rows in JSON and latest.csv's lines byte for byte in
# CSV, every page followed, whole and filtered by level, area, metric and breakdown. Then hostile input to every endpoint
# (malformed queries, wrong methods, traversal plain and encoded, a symbolic link out of the
# folder, 20 KB and 1 MB of headers, a body over the limit refused before it is read, a chunked
# one stopped at it, idle and trickling half-requests) each gets its status and problem type while
# a normal request is served after each and meanwhile; with PostgreSQL stopped the API answers 503
# problem+json and the files are still served, and the API answers again once it is back.
# Run through tests/run.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

probe() { python3 "$NCAP_ROOT/tests/tools/web_probe.py" "$@"; }

# The test's own cluster, which it stops and starts again.
e2e_own_pg
pg_base=$E2E_PG_BASE

e2e_sim "$E2E_DIR/sim" 3000 8 61
e2e_deploy web
e2e_load_refdata
e2e_start_pipeline
e2e_wait_registered ingest 1
e2e_submit_all "$E2E_DIR/sim"
e2e_drain
mapfile -t releases < <(e2e_releases)
[ "${#releases[@]}" -gt 0 ] || fail "no release written"
release_dir=$(dirname "${releases[0]}")
period=$(basename "$release_dir")
e2e_say "released: ${releases[*]#"$CTX_OUT"/}"

# a symbolic link out of the releases folder and a hidden folder, which must never be served
echo "not public" >"$E2E_DIR/secret.txt"
ln -sfn "$E2E_DIR/secret.txt" "$CTX_OUT/nhfd/leak.csv"
mkdir -p "$CTX_OUT/.site.tmp-x" && echo hidden >"$CTX_OUT/.site.tmp-x/index.html"

ncap_web_start 1 --timeout 3 --per-ip 64 --max-body 1000000 || fail "ncap-webd is already running"
url=$(ncap_web_url 1) || fail "ncap-webd did not say where it serves: $(tail -n 5 "$CTX_RUN/logs/web-1.log")"
e2e_say "ncap-webd at $url"
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }

# --- the releases folder ---------------------------------------------------------------------
[ "$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "$url/")" = "302 $url/site/" ] ||
  fail "/ does not redirect to /site/"
for f in latest.csv latest.json fingertips.csv spc.csv; do
  curl -sf "$url/nhfd/$period/$f" -o "$E2E_DIR/got.$f" || fail "GET /nhfd/$period/$f failed"
  cmp -s "$E2E_DIR/got.$f" "$release_dir/$f" || fail "/nhfd/$period/$f differs from the file"
done
rev=$(find "$release_dir" -maxdepth 1 -name 'r0*' | sort | tail -n 1)
cmp -s <(curl -sf "$url/nhfd/$period/$(basename "$rev")/release.csv") "$rev/release.csv" ||
  fail "the revision folder's release.csv is not served as it is"
headers=$(curl -sI "$url/nhfd/$period/latest.csv")
grep -qi '^content-type: text/csv' <<<"$headers" || fail "latest.csv's type: $headers"
grep -qi "^content-length: $(stat -c %s "$release_dir/latest.csv")" <<<"$headers" || fail "HEAD latest.csv: $headers"
etag=$(sed -n 's/^[Ee][Tt][Aa][Gg]: *//p' <<<"$headers" | tr -d '\r')
[ -n "$etag" ] || fail "no ETag: $headers"
[ "$(code -H "If-None-Match: $etag" "$url/nhfd/$period/latest.csv")" = 304 ] || fail "If-None-Match did not answer 304"
if [ -f "$CTX_OUT/site/index.html" ]; then
  cmp -s <(curl -sf "$url/site/") "$CTX_OUT/site/index.html" || fail "/site/ is not site/index.html"
  e2e_say "the portal /site/ served"
else
  [ "$(code "$url/site/")" = 404 ] || fail "/site/ without a site: expected 404"
  e2e_say "no portal written by publish yet: /site/ 404"
fi
[ "$(code "$url/nhfd/leak.csv")" = 404 ] || fail "a symbolic link out of the releases folder was served"
e2e_say "files: redirect, bytes, revision folder, type, length, ETag and 304; a link out refused"

# --- the API equals the release files ----------------------------------------------------------
curl -sf "$url/api/v1/audits" | jq -e --arg p "$period" '.audits[] | select(.audit == "nhfd") | .periods >= 1' >/dev/null ||
  fail "/api/v1/audits does not list nhfd: $(curl -s "$url/api/v1/audits")"
curl -sf "$url/api/v1/audits/nhfd" | jq -e --arg p "$period" '.periods | map(.period) | index($p) != null' >/dev/null ||
  fail "/api/v1/audits/nhfd does not list $period"
curl -sf "$url/api/v1/audits/nhfd/releases?period=$period" | jq -e '.releases | length >= 1' >/dev/null ||
  fail "/api/v1/audits/nhfd/releases lists nothing"
metrics=$(curl -sf "$url/api/v1/audits/nhfd/metrics?period=$period" | jq -c '.metrics | map(.id)')
[ "$metrics" = "$(jq -c '.metrics | map(.id)' "$release_dir/latest.json")" ] || fail "metrics $metrics differ from latest.json's"
area=$(jq -r '[.rows[] | select(.[2] == "trust")][0][3]' "$release_dir/latest.json")
metric=$(jq -r '.rows[0][6]' "$release_dir/latest.json")
for query in "" "level=trust" "level=england&breakdown=all" "area=$area" "metric=$metric&level=trust&breakdown=all"; do
  out=$(probe rows-json "$url" "$release_dir/latest.json" "$query") || fail "JSON rows ($query): $out"
  e2e_say "JSON ${query:-all}: $out"
  out=$(probe rows-csv "$url" "$release_dir/latest.csv" "$query") || fail "CSV rows ($query): $out"
  e2e_say "CSV  ${query:-all}: $out"
done
[ "$(curl -s -H 'Accept: text/csv' "$url/api/v1/audits/nhfd/rows?period=$period&limit=3" | head -n 1)" = \
  "$(head -n 1 "$release_dir/latest.csv")" ] || fail "Accept: text/csv did not answer CSV"

# --- the trusts' API over HTTP, through the gateway into ingest ---------------------------------
mapfile -t trusts < <(basename -a -s .csv "$E2E_DIR"/sim/*.csv)
a=${trusts[0]} b=${trusts[1]}
token_of() { "$CTX_BUILD/ncap" keys token --trust "$1" "$CTX_KEYS/trusts" 2>>"$CTX_RUN/logs/tokens.log"; }
tok_a=$(token_of "$a") && tok_b=$(token_of "$b") || fail "ncap keys token failed: $(cat "$CTX_RUN/logs/tokens.log")"
submit() { # submit TOKEN TRUST FILE: prints the body, then the status on a line of its own
  curl -s -w '\n%{http_code}' -X POST -H "Authorization: Bearer $1" -H 'Content-Type: text/csv' \
    --data-binary @"$3" "$url/api/v1/submissions?audit=nhfd&trust=$2"
}
out=$(submit "$tok_a" "$a" "$E2E_DIR/sim/$a.csv")
[ "$(tail -n 1 <<<"$out")" = 201 ] || fail "POST /api/v1/submissions with $a's token: $out"
sid=$(head -n 1 <<<"$out" | jq -r '.submission_id')
rows=$(($(wc -l <"$E2E_DIR/sim/$a.csv") - 1))
head -n 1 <<<"$out" | jq -e --argjson n "$rows" '.rows == $n and .unchanged == $n' >/dev/null ||
  fail "the receipt of $a's file sent again is not $rows rows unchanged: $out"
out=$(submit "$tok_b" "$a" "$E2E_DIR/sim/$a.csv")
[ "$(tail -n 1 <<<"$out")" = 403 ] || fail "$b's token submitting for $a: $out"
feedback() { curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $1" "$url/api/v1/submissions/$sid/feedback"; }
[ "$(feedback "$tok_a")" = 200 ] || fail "$a's feedback with its token: $(feedback "$tok_a")"
[ "$(feedback "$tok_b")" = 404 ] || fail "$a's feedback with $b's token: $(feedback "$tok_b")"
[ "$(feedback "ncap_${a}_nottherealtokennottherealtokennottherealtoken")" = 401 ] || fail "a token never made was not refused 401"
curl -s -H "Authorization: Bearer $tok_a" "$url/api/v1/results?audit=nhfd&period=$period" |
  jq -e --arg t "$a" '.trust == $t' >/dev/null || fail "$a's results with its token: $(curl -s -H "Authorization: Bearer $tok_a" "$url/api/v1/results?audit=nhfd")"
curl -s -H "Authorization: Bearer $tok_b" "$url/api/v1/outliers?audit=nhfd" |
  jq -e --arg t "$b" '.trust == $t' >/dev/null || fail "$b's outlier cases with its token"
e2e_say "trusts' API: $a's file over HTTP ($rows rows unchanged, submission $sid), its feedback and results with its token; $b's token refused for $a's (403, 404); an unknown token 401"

# --- hostile input, a normal request answered after each ----------------------------------------
out=$(probe hostile "$url") || fail "hostile requests not refused as they should be:
$out"
e2e_say "hostile: $(wc -l <<<"$out") requests refused with their status and problem type"
# a chunked body stopped at --max-body: 413 after the limit, the rest not kept
head -c 3000000 /dev/zero | tr '\0' a >"$E2E_DIR/big.csv"
got=$(curl -s -o "$E2E_DIR/chunked.out" -w '%{http_code}' -X POST -H 'Authorization: Bearer abc' \
  -H 'Content-Type: text/csv' -H 'Transfer-Encoding: chunked' --data-binary @"$E2E_DIR/big.csv" \
  "$url/api/v1/submissions?audit=nhfd&trust=RX1")
[ "$got" = 413 ] && jq -e '.type == "urn:ncap:problem:body-too-large"' "$E2E_DIR/chunked.out" >/dev/null ||
  fail "a chunked body over --max-body: $got $(cat "$E2E_DIR/chunked.out")"
# slowloris: 20 half-requests, idle or trickling, while others are served
probe slow "$url" 20 10 >"$E2E_DIR/slow.out" &
slow=$!
ncap_wait_until 10 grep -q '^slow 20 opened' "$E2E_DIR/slow.out" || fail "the slow client did not connect"
for i in 1 2 3; do
  [ "$(code "$url/api/v1/audits")" = 200 ] || fail "the API did not answer while 20 half-requests were held"
  [ "$(code "$url/nhfd/$period/latest.csv")" = 200 ] || fail "a file was not served while 20 half-requests were held"
  sleep 1
done
wait "$slow"
grep -q '^slow 20 idle-closed 10 of 10 ' "$E2E_DIR/slow.out" || fail "idle half-requests not closed after --timeout: $(cat "$E2E_DIR/slow.out")"
e2e_say "slowloris: $(tail -n 1 "$E2E_DIR/slow.out"); normal requests served meanwhile"

# --- PostgreSQL stopped: 503 problem from the API, files still served; then back --------------
ncap_pg_down "$pg_base"
e2e_say "PostgreSQL stopped"
body=$(curl -s -w '\n%{http_code}' "$url/api/v1/audits/nhfd/rows?period=$period&limit=5")
[ "$(tail -n 1 <<<"$body")" = 503 ] || fail "the API with PostgreSQL stopped: $body"
head -n 1 <<<"$body" | jq -e '.type == "urn:ncap:problem:database-unavailable" and .status == 503' >/dev/null ||
  fail "not a database-unavailable problem: $body"
[ "$(code "$url/nhfd/$period/latest.csv")" = 200 ] || fail "files not served with PostgreSQL stopped"
ncap_pg_up "$pg_base" 2>>"$E2E_DIR/pg.log"
api_back() { [ "$(code "$url/api/v1/audits/nhfd/rows?period=$period&limit=5")" = 200 ]; }
ncap_wait_until 30 api_back || fail "the API did not answer 30 s after PostgreSQL came back"
out=$(probe rows-json "$url" "$release_dir/latest.json") || fail "JSON rows after PostgreSQL came back: $out"
e2e_say "PostgreSQL stopped: 503 problem, files served; back: the API answers again ($out)"

kill -0 "$(cat "$CTX_RUN/pids/web-1.pid")" || fail "ncap-webd died"

# --- HTTPS, and client certificates for the trusts' API ------------------------------------------
tls=$E2E_DIR/tls
rm -rf "$tls" && mkdir -p "$tls"
cert() { # cert NAME CN [CA]: a key and a certificate, self-signed or signed by CA
  openssl req -new -newkey rsa:2048 -nodes -keyout "$tls/$1.key" -subj "/CN=$2" \
    -addext "subjectAltName=IP:127.0.0.1" -out "$tls/$1.csr" 2>/dev/null
  if [ -z "${3:-}" ]; then
    openssl x509 -req -in "$tls/$1.csr" -signkey "$tls/$1.key" -days 2 -out "$tls/$1.pem" \
      -extfile <(printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=keyCertSign,cRLSign\n') 2>/dev/null
  else
    openssl x509 -req -in "$tls/$1.csr" -CA "$tls/$3.pem" -CAkey "$tls/$3.key" -CAcreateserial \
      -days 2 -out "$tls/$1.pem" -extfile <(printf 'subjectAltName=IP:127.0.0.1\n') 2>/dev/null
  fi
}
cert ca "ncap test CA" && cert server 127.0.0.1 ca && cert client "trust RX1" ca && cert other "not ours"
chmod 600 "$tls"/*.key
ncap_web_start 2 --tls-cert "$tls/server.pem" --tls-key "$tls/server.key" --tls-client-ca "$tls/ca.pem" ||
  fail "ncap-webd 2 is already running"
surl=$(ncap_web_url 2) || fail "ncap-webd with TLS did not start: $(tail -n 5 "$CTX_RUN/logs/web-2.log")"
[[ $surl == https://* ]] || fail "ncap-webd with TLS serves $surl"
cmp -s <(curl -sf --cacert "$tls/ca.pem" "$surl/nhfd/$period/latest.csv") "$release_dir/latest.csv" ||
  fail "latest.csv over HTTPS differs"
[ "$(code --cacert "$tls/ca.pem" "$surl/api/v1/audits")" = 200 ] || fail "the read API over HTTPS without a client certificate"
curl -s --cacert "$tls/ca.pem" "$surl/api/v1/results?audit=nhfd" |
  jq -e '.status == 403 and .type == "urn:ncap:problem:client-certificate-required"' >/dev/null ||
  fail "the trusts' API over HTTPS without a client certificate was not refused 403"
# another authority's certificate: the handshake refused (000), or the request 403
got=$(code --cacert "$tls/ca.pem" --cert "$tls/other.pem" --key "$tls/other.key" "$surl/api/v1/results?audit=nhfd") || true
[ "$got" = 000 ] || [ "$got" = 403 ] || fail "a client certificate of another authority was taken: $got"
curl -s --cacert "$tls/ca.pem" --cert "$tls/client.pem" --key "$tls/client.key" "$surl/api/v1/results?audit=nhfd" |
  jq -e '.status == 401 and .type == "urn:ncap:problem:unauthorized"' >/dev/null ||
  fail "with the authority's client certificate the trusts' API did not go on to the token (401)"
[ "$(code "http://${surl#https://}/api/v1/audits")" = 000 ] || fail "plain HTTP answered on the HTTPS port"
e2e_say "HTTPS: files and read API served; trusts' API: no certificate 403, another authority's refused, the authority's on to the token"
e2e_stop_all
e2e_say "PASS"
