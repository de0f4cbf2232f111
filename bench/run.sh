#!/usr/bin/env bash
# Load test of the identity provider on this machine (issue 3's targets).
#
# Builds idp and loadgen, starts `idp serve` on a fresh SQLite database in a temporary
# directory, seeds a person and two clients through the CLI, measures a /healthz baseline and
# the password hash time, runs the client-credentials, sso and login scenarios, samples the
# server's resident memory (VmRSS) at idle and under each load, and prints a table with the
# target checks. Traffic goes only to 127.0.0.1. Every run stops by itself.
#
# Environment (all optional):
#   CONNS=16                 closed-loop connections per scenario
#   DURATION=15s             measured duration per scenario (after a 2 s warm-up)
#   PORT=18080               port of idp serve on 127.0.0.1
#   PASSWORD_ITERATIONS=     PBKDF2-HMAC-SM3 iterations (default: idp's, ≈50 ms of one core)
#   SCENARIOS="healthz client-credentials sso login"
#   PPROF=1                  also take a 10 s CPU profile of the server in each scenario and
#                            print its top functions (files kept in $OUT)
#   OUT=                     directory for results.jsonl, serve.log, profiles (default: a temp dir)
#   TONGBAN_DB=postgres://…  run against PostgreSQL instead of SQLite (the database must be empty)
set -euo pipefail
cd "$(dirname "$0")/.."

CONNS=${CONNS:-16}
DURATION=${DURATION:-15s}
PORT=${PORT:-18080}
SCENARIOS=${SCENARIOS:-healthz client-credentials sso login}
WORK=$(mktemp -d /tmp/tongban-bench.XXXXXX)
OUT=${OUT:-$WORK/out}
mkdir -p "$OUT"
ADDR=127.0.0.1:$PORT
PPROF_ADDR=127.0.0.1:$((PORT + 1))
BASE=http://$ADDR
SERVE_PID=

cleanup() {
  if [ -n "$SERVE_PID" ] && kill -0 "$SERVE_PID" 2>/dev/null; then
    kill -TERM "$SERVE_PID" 2>/dev/null || true
    wait "$SERVE_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK/bin" "$WORK/var"
}
trap cleanup EXIT

echo "== build" >&2
mkdir -p "$WORK/bin"
go build -o "$WORK/bin/idp" ./cmd/idp
go build -o "$WORK/bin/loadgen" ./bench/loadgen
IDP=$WORK/bin/idp
LOADGEN=$WORK/bin/loadgen

export TONGBAN_DB=${TONGBAN_DB:-$WORK/var/tongban.db}
export TONGBAN_KEK_FILE=$WORK/var/kek
export TONGBAN_LOG_LEVEL=warn
if [ -n "${PASSWORD_ITERATIONS:-}" ]; then export TONGBAN_PASSWORD_ITERATIONS=$PASSWORD_ITERATIONS; fi
hash_args=()
if [ -n "${PASSWORD_ITERATIONS:-}" ]; then hash_args=(-iterations "$PASSWORD_ITERATIONS"); fi

PASSWORD=bench-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
REDIRECT=http://127.0.0.1:9/cb

json_field() { sed -n "s/.*\"$1\": \"\\([^\"]*\\)\".*/\\1/p"; }

echo "== start idp serve on $ADDR (database $TONGBAN_DB)" >&2
serve_args=(serve --addr "$ADDR" --issuer "$BASE")
if [ "${PPROF:-}" = 1 ]; then serve_args+=(--pprof-addr "$PPROF_ADDR"); fi
"$IDP" "${serve_args[@]}" 2>"$OUT/serve.log" &
SERVE_PID=$!
for _ in $(seq 1 100); do
  if curl -fsS "$BASE/readyz" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$SERVE_PID" 2>/dev/null; then cat "$OUT/serve.log" >&2; exit 1; fi
  sleep 0.1
done

# Seed through the CLI once serve has created the database and keys (only serve and demo
# create them; the admin commands refuse a missing database).
# One account per connection: the idp counts login attempts in flight against the account
# lockout (5 by default), so 16 concurrent logins of one account would be refused as an attack.
echo "== seed: $CONNS people, 2 clients" >&2
USERS=
for id in $("$LOADGEN" -gen-ids "$CONNS"); do
  printf '%s\n' "$PASSWORD" | "$IDP" people add --id-number "$id" --name 压测用户 --json >/dev/null
  USERS=${USERS:+$USERS,}$id
done
CC_SECRET=$("$IDP" clients add --id bench-cc --name bench-cc --grant-types client_credentials --scopes profile --json | json_field client_secret)
WEB_SECRET=$("$IDP" clients add --id bench-web --name bench-web --redirect-uri "$REDIRECT" --scopes "openid profile" --grant-types authorization_code --id-token-alg SGD_SM3_SM2 --json | json_field client_secret)

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$SERVE_PID/status"; }
RESULTS=$OUT/results.jsonl
: >"$RESULTS"

sleep 2
printf '{"kind":"rss","phase":"idle","kb":%s}\n' "$(rss_kb)" >>"$RESULTS"

echo "== password hash time" >&2
"$LOADGEN" -measure-hash "${hash_args[@]}" -json >>"$RESULTS"

for sc in $SCENARIOS; do
  echo "== $sc: $CONNS connections, $DURATION" >&2
  ( while kill -0 "$SERVE_PID" 2>/dev/null; do
      printf '{"kind":"rss","phase":"%s","kb":%s}\n' "$sc" "$(rss_kb)"
      sleep 0.5
    done ) >>"$OUT/rss-$sc.jsonl" 2>/dev/null &
  SAMPLER=$!
  if [ "${PPROF:-}" = 1 ]; then
    ( sleep 4; curl -fsS -o "$OUT/cpu-$sc.pprof" "http://$PPROF_ADDR/debug/pprof/profile?seconds=10" ) &
    PROF=$!
  fi
  case $sc in
    healthz) args=() ;;
    client-credentials) args=(-client-id bench-cc -client-secret "$CC_SECRET") ;;
    sso|login) args=(-client-id bench-web -client-secret "$WEB_SECRET" -redirect-uri "$REDIRECT" -username "$USERS") ;;
  esac
  LOADGEN_PASSWORD=$PASSWORD "$LOADGEN" -target "$BASE" -scenario "$sc" -c "$CONNS" -d "$DURATION" -server-pid "$SERVE_PID" "${args[@]}" -json >>"$RESULTS"
  if [ "${PPROF:-}" = 1 ]; then wait "$PROF" || true; fi
  kill "$SAMPLER" 2>/dev/null || true
  wait "$SAMPLER" 2>/dev/null || true
  cat "$OUT/rss-$sc.jsonl" >>"$RESULTS"
  sleep 1
done
printf '{"kind":"rss","phase":"after","kb":%s}\n' "$(rss_kb)" >>"$RESULTS"

echo >&2
echo "machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1); $(go version)"
echo "database: $( [[ $TONGBAN_DB == postgres* ]] && echo PostgreSQL || echo SQLite ); $CONNS connections; $DURATION per scenario"
echo
"$LOADGEN" -report "$RESULTS"
if [ "${PPROF:-}" = 1 ]; then
  for sc in $SCENARIOS; do
    [ -s "$OUT/cpu-$sc.pprof" ] || continue
    echo; echo "== CPU profile, $sc (top 20 by cumulative time)"
    go tool pprof -top -cum -nodecount=20 "$IDP" "$OUT/cpu-$sc.pprof" 2>/dev/null | sed -n '1,30p'
  done
fi
echo
echo "results: $RESULTS; server log: $OUT/serve.log"
