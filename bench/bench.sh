#!/usr/bin/env bash
# `make bench`: the service against PostgreSQL itself, side by side, on this
# machine. It builds the binary, creates a fresh database on the server of
# TEST_DATABASE_URL, seeds it, starts a local JWKS (bench/cmd/jwksserver) and
# the service, drives the service with wrk (bench/wrk/api.lua) and PostgreSQL
# with pgbench running the same SQL (bench/pgbench/*.sql), and prints one
# table. Everything it starts is stopped and the database dropped on exit,
# failure or Ctrl-C included. Loopback only. See docs/PERFORMANCE.md.
#
# Knobs (environment):
#   QUICK=1             one 2 s round per measurement: under a minute (the same
#                       2,000 users, so that its ratios compare with a full run)
#   DURATION=5          seconds per run (QUICK: 2)
#   ROUNDS=2            rounds of each measurement, interleaved with its
#                       pgbench twin; the table shows the best (QUICK: 1)
#   USERS=2000          seeded users (20 tasks each)
#   SCENARIOS="..."     subset, e.g. "list32 create32" (default: all): list32,
#                       list32hs, list128, list256, list32simple, list32info,
#                       get32, toggle32, mixed32, create32, list-in-list,
#                       list-pair (list and list-in-list alternated round by
#                       round, not part of all), move,
#                       complete-recurring, changes, commands, shared (issue
#                       19: each user an editor of the next user's list,
#                       member against owner, made last), events (issue 16:
#                       bench/cmd/eventsbench, two instances of their own on
#                       a fresh database, after the table);
#                       transfer (Go benchmarks of export and import,
#                       not part of all);
#                       reminders (the reminder scheduler's throughput to a
#                       local webhook receiver, one and two instances:
#                       bench/cmd/reminders; REMINDERS_N=2000)
#   GROWTH=1            the growth scenario instead: 1,000,000 tasks, plans
#   PROFILE=1           serve with bench/cmd/profserve and take a CPU profile
#                       (pprof, and perf when present) during list32, and
#                       during each wrk run of list-pair (cpu-pair-*.pprof,
#                       perf-pair-*.txt)
#   BENCH_LOG_LEVEL=warn  LOG_LEVEL of the service under test
#   API_DB_PARAMS=...   extra DATABASE_URL query parameters for the service,
#                       e.g. default_query_exec_mode=simple_protocol
#   DB_MAX_CONNS=N      passed through to the service (its pool size)
#   PGBENCH_WARMUP=2    seconds each pgbench run warms up before its DURATION
#                       is counted (QUICK: 1): its backends are new
#   CONNECT_SLACK=2     seconds pgbench's run allows its clients to connect
#   WRK_THREADS=1 PGBENCH_THREADS=1 PGBENCH_MAX_CLIENTS=64 WRK_TIMEOUT=2
#   BENCH_OUT=bench/out  where reports, profiles and plans are written
set -Eeuo pipefail
[[ -n ${BENCH_TRACE:-} ]] && set -x

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
# go.mod requires Go 1.27.3 (the Makefile exports the same).
export GOTOOLCHAIN=${GOTOOLCHAIN:-go1.27.3}
QUICK=${QUICK:-0}
GROWTH=${GROWTH:-0}
PROFILE=${PROFILE:-0}
if [[ $QUICK == 1 ]]; then
  # A profile is taken over DURATION-1 seconds: too short a run gives none.
  [[ $PROFILE == 1 ]] && DURATION=${DURATION:-6}
  DURATION=${DURATION:-2}; ROUNDS=${ROUNDS:-1}; WARMUP=1; PGBENCH_WARMUP=${PGBENCH_WARMUP:-1}
else
  DURATION=${DURATION:-5}; ROUNDS=${ROUNDS:-2}; WARMUP=2; PGBENCH_WARMUP=${PGBENCH_WARMUP:-2}
fi
CONNECT_SLACK=${CONNECT_SLACK:-2}
USERS=${USERS:-2000}
[[ $GROWTH == 1 ]] && USERS=10000
PER=20
WRK_THREADS=${WRK_THREADS:-1}
WRK_TIMEOUT=${WRK_TIMEOUT:-2}
PGBENCH_THREADS=${PGBENCH_THREADS:-1}
PGBENCH_MAX_CLIENTS=${PGBENCH_MAX_CLIENTS:-64}
LOG_LEVEL_API=${BENCH_LOG_LEVEL:-warn}
SCENARIOS=${SCENARIOS:-all}
OUT=${BENCH_OUT:-$ROOT/bench/out}
TEST_DATABASE_URL=${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}
SECRET=bench-only-hs256-secret-0123456789-abcdefghij
ISSUER=http://localhost:3000
LUA=$ROOT/bench/wrk/api.lua
STAMP=$(date +%Y%m%d_%H%M%S)
DB=bench_${STAMP}_$$
START_TIME=$SECONDS

say() { printf '[bench %3ds] %s\n' $((SECONDS - START_TIME)) "$*" >&2; }
die() { say "error: $*"; exit 1; }
want() { [[ $SCENARIOS == all || " $SCENARIOS " == *" $1 "* ]]; }

# Import and export (issue 20) are Go benchmarks (bench/transfer_test.go):
# SCENARIOS=transfer runs them alone, needing no service; "all" leaves them
# out (they take a few minutes). BENCH_TRANSFER_PG=0 skips PostgreSQL.
if [[ " $SCENARIOS " == *" transfer "* ]]; then
  mkdir -p "$OUT"
  go test ./bench -run '^$' -bench 'BenchmarkExport|BenchmarkImport' -benchtime="$([[ $QUICK == 1 ]] && echo 1x || echo 3x)" \
    -benchmem | tee "$OUT/transfer-$(date -u +%Y%m%dT%H%M%SZ).txt"
  [[ $SCENARIOS == transfer ]] && exit 0
fi

# ---------------------------------------------------------------- tools
if ! command -v wrk >/dev/null; then
  [[ $(id -u) == 0 ]] || die "wrk is missing: apt-get install wrk (as root)"
  say "installing wrk (Debian package)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null 2>&1 ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; } ||
    die "could not install wrk"
fi
for t in pgbench psql curl jq awk; do
  command -v $t >/dev/null || die "$t is missing (pgbench and psql come with PostgreSQL; apt-get install postgresql-15 curl jq)"
done
psql "$TEST_DATABASE_URL" -Atqc 'SELECT 1' >/dev/null 2>&1 ||
  die "PostgreSQL at TEST_DATABASE_URL is not reachable (start it: pg_ctlcluster --skip-systemctl-redirect 15 main start)"

# ---------------------------------------------------------------- cleanup
TMP=$(mktemp -d /tmp/todo-bench.XXXXXX)
mkdir -p "$OUT"
PIDS=()
DB_CREATED=0
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  if [[ $DB_CREATED == 1 ]]; then
    psql "$TEST_DATABASE_URL" -Atqc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 ||
      say "could not drop database $DB"
  fi
  if [[ $rc != 0 ]]; then
    for f in "$TMP"/*.log; do [[ -f $f ]] && cp "$f" "$OUT/failed-$STAMP-$(basename "$f")"; done
    say "failed (exit $rc); service logs copied to $OUT/failed-$STAMP-*"
  fi
  rm -rf "$TMP"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- build
say "building"
make -s build >/dev/null
mkdir -p "$TMP/bin"
go build -o "$TMP/bin/" ./bench/cmd/seed ./bench/cmd/jwksserver
API_BIN=$ROOT/bin/todo-api
if [[ $PROFILE == 1 ]]; then
  go build -o "$TMP/bin/" ./bench/cmd/profserve
  API_BIN=$TMP/bin/profserve
fi

# ---------------------------------------------------------------- database
BENCH_URL=$(sed -E "s#^(postgres(ql)?://[^/?]*)/[^?]*#\\1/$DB#" <<<"$TEST_DATABASE_URL")
[[ $BENCH_URL == *"/$DB"* ]] || die "cannot put a database name into TEST_DATABASE_URL"
psql "$TEST_DATABASE_URL" -Atqc "CREATE DATABASE $DB" >/dev/null
DB_CREATED=1
say "database $DB created"
if [[ $GROWTH == 1 ]]; then
  "$TMP/bin/seed" -db "$BENCH_URL" -growth -users "$USERS" >&2
else
  # Each user's tasks in a list of theirs (list-in-list, move), in an order
  # of their own (bench/seed).
  # and each user's change feed cursor 5 changes back (changes).
  "$TMP/bin/seed" -db "$BENCH_URL" -users "$USERS" -tasks "$PER" -lists -cursors "$TMP/cursors" -back 5 >&2
fi

# The pgbench scripts, their markers filled in from the schema (see
# bench/pgbench/README.md).
has_column() {
  [[ $(psql "$BENCH_URL" -Atqc "SELECT count(*) FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'tasks' AND column_name = '$1'") == 1 ]]
}
LIVE="" SET="" COLS="" VALS="" MORE=""
has_column deleted_at && LIVE="AND deleted_at IS NULL"
has_column version && SET+=", version = version + 1"
has_column completed_at && SET+=", completed_at = CASE WHEN completed THEN NULL ELSE now() END"
has_column title_key && COLS=", title_key" && VALS=", 'bench task'"
has_column tags && COLS+=", priority, due_all_day, version, tags" && VALS+=", 2, false, 1, '[]'"
has_column tags && MORE=", priority, due_at, due_all_day, completed_at, version, tags"
has_column sort_key && MORE+=", list_id, parent_id, sort_key"
mkdir -p "$TMP/sql"
for f in "$ROOT"/bench/pgbench/*.sql; do
  sed -e "s#/\*live\*/#$LIVE#; s#/\*set\*/#$SET#; s#/\*cols\*/#$COLS#; s#/\*vals\*/#$VALS#; s#/\*more\*/#$MORE#" "$f" >"$TMP/sql/$(basename "$f")"
done
SQL=$TMP/sql

# ---------------------------------------------------------------- services
free_port() {
  local p used
  used=$(ss -Htan | awk '{print $4}' | sed 's/.*://' | sort -u)
  while :; do
    p=$((20000 + RANDOM % 20000))
    grep -qx "$p" <<<"$used" || { echo "$p"; return; }
  done
}

BETTER_AUTH_SECRET=$SECRET "$TMP/bin/jwksserver" -addr 127.0.0.1:0 -addr-file "$TMP/jwks.addr" \
  -users "$USERS" -issuer "$ISSUER" -audience "$ISSUER" \
  -eddsa-tokens "$TMP/eddsa.tokens" -hs256-tokens "$TMP/hs256.tokens" >"$TMP/jwks.log" 2>&1 &
PIDS+=($!)
JWKS_PID=$!
for _ in $(seq 100); do [[ -s $TMP/jwks.addr ]] && break; kill -0 $JWKS_PID || die "jwksserver died"; sleep 0.1; done
[[ -s $TMP/jwks.addr ]] || die "jwksserver did not start"
JWKS_URL="http://$(cat "$TMP/jwks.addr")/api/auth/jwks"

API_DB_URL=$BENCH_URL
if [[ -n ${API_DB_PARAMS:-} ]]; then
  if [[ $API_DB_URL == *\?* ]]; then API_DB_URL+="&$API_DB_PARAMS"; else API_DB_URL+="?$API_DB_PARAMS"; fi
fi

# start_api NAME LOG_LEVEL: starts the service, sets API_PID and API_URL.
start_api() {
  local name=$1 level=$2 port pprof_port
  port=$(free_port)
  pprof_port=$(free_port)
  # The working directory is the temporary one, so no .env is read.
  (cd "$TMP" && exec env -u BETTER_AUTH_URL PORT="$port" DATABASE_URL="$API_DB_URL" \
    BETTER_AUTH_JWKS_URL="$JWKS_URL" BETTER_AUTH_ISSUER="$ISSUER" BETTER_AUTH_AUDIENCE="$ISSUER" \
    BETTER_AUTH_SECRET="$SECRET" LOG_LEVEL="$level" LOG_FORMAT=json PPROF_ADDR="127.0.0.1:$pprof_port" \
    $([[ $PROFILE == 1 && -z ${GOGC:-} ]] && echo GOGC=200) "$API_BIN" serve) >"$TMP/$name.log" 2>&1 &
  API_PID=$!
  PIDS+=($API_PID)
  API_URL=http://127.0.0.1:$port
  PPROF_URL=http://127.0.0.1:$pprof_port
  for _ in $(seq 300); do
    curl -fsS -o /dev/null "$API_URL/readyz" 2>/dev/null && return 0
    kill -0 $API_PID 2>/dev/null || die "the service exited; see its log:$(echo; tail -5 "$TMP/$name.log")"
    sleep 0.1
  done
  die "the service was not ready within 30 s"
}

stop_api() { # PID
  kill "$1" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$1" 2>/dev/null || true
}

token() { sed -n "$(($2 + 1))p" "$TMP/$1.tokens" | cut -d' ' -f2; }
uid() { sed -n "$(($1 + 1))p" "$TMP/eddsa.tokens" | cut -d' ' -f1; }
task_id() { echo $(($2 * USERS + $1 + 1)); } # user n, task j (default layout)

# check DESCRIPTION EXPECTED_STATUS JQ_FILTER EXPECTED_VALUE curl-args...
check() {
  local what=$1 want_status=$2 filter=$3 want=$4 status got
  shift 4
  status=$(curl -sS -o "$TMP/check.json" -w '%{http_code}' "$@")
  [[ $status == "$want_status" ]] || die "sanity check '$what': status $status, want $want_status: $(head -c 300 "$TMP/check.json")"
  if [[ $filter != - ]]; then
    got=$(jq -r "$filter" "$TMP/check.json")
    [[ $got == "$want" ]] || die "sanity check '$what': $filter = $got, want $want"
  fi
}

sanity() {
  local u0 e0 h0 id created
  u0=$(uid 0); e0=$(token eddsa 0); h0=$(token hs256 0)
  check "list (EdDSA)" 200 length $PER "$API_URL/api/$u0/tasks" -H "Authorization: Bearer $e0"
  check "list (HS256)" 200 length $PER "$API_URL/api/$u0/tasks" -H "Authorization: Bearer $h0"
  id=$(task_id 0 3)
  check "get" 200 .id "$id" "$API_URL/api/$u0/tasks/$id" -H "Authorization: Bearer $e0"
  check "toggle" 200 .id "$id" -X PATCH "$API_URL/api/$u0/tasks/$id/complete" -H "Authorization: Bearer $e0"
  check "toggle back" 200 .id "$id" -X PATCH "$API_URL/api/$u0/tasks/$id/complete" -H "Authorization: Bearer $e0"
  check "create" 201 .user_id "$u0" -X POST "$API_URL/api/$u0/tasks" -H "Authorization: Bearer $e0" \
    -H 'Content-Type: application/json' -d '{"title":"bench task","description":null}'
  created=$(jq -r .id "$TMP/check.json")
  check "delete" 204 - - -X DELETE "$API_URL/api/$u0/tasks/$created" -H "Authorization: Bearer $e0"
  check "someone else's tasks" 403 - - "$API_URL/api/$(uid 1)/tasks" -H "Authorization: Bearer $e0"
  # The list's tasks by position: the reverse of creation (bench/seed).
  check "list in list" 200 '[length, .[0].id] | @tsv' "$PER"$'\t'"$(task_id 0 $((PER - 1)))" \
    "$API_URL/api/$u0/tasks?list_id=1&parent_id=none&sort=position" -H "Authorization: Bearer $e0"
  check "changes" 200 '.changes | length >= 5' true "$API_URL/api/$u0/changes?since=$(sed -n 1p "$TMP/cursors" | cut -d' ' -f2)" -H "Authorization: Bearer $e0"
  check "move" 200 .id "$id" -X POST "$API_URL/api/$u0/tasks/$id/move" -H "Authorization: Bearer $e0" \
    -H 'Content-Type: application/json' -d "{\"after_id\":$(task_id 0 5)}"
}

# setup_recurring gives every user one repeating task (every day at 17:00
# Europe/Paris, from 2 January 2026), bench_recurring maps user n to it for
# pgbench, and $TMP/recurring.ids ("n id" lines) for wrk; then checks one
# completion moves it on.
setup_recurring() {
  psql "$BENCH_URL" -Atq -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
CREATE TABLE bench_recurring (n integer PRIMARY KEY, id bigint NOT NULL);
WITH ins AS (
  INSERT INTO tasks (user_id, title, description, completed, created_at, updated_at, title_key, priority,
                     due_at, due_all_day, due_tz, recurrence_rule, recurrence_from, version)
  SELECT id, 'daily review', NULL, false, now(), now(), 'daily review', 2,
         '2026-01-02 16:00:00+00', false, 'Europe/Paris', 'FREQ=DAILY', 'due', 1
  FROM bench_users ORDER BY n
  RETURNING id, user_id)
INSERT INTO bench_recurring SELECT u.n, ins.id FROM ins JOIN bench_users u ON u.id = ins.user_id;
VACUUM (ANALYZE) bench_recurring;
SQL
  psql "$BENCH_URL" -Atqc "SELECT n || ' ' || id FROM bench_recurring ORDER BY n" >"$TMP/recurring.ids"
  local rid
  rid=$(sed -n 1p "$TMP/recurring.ids" | cut -d' ' -f2)
  check "complete a repeating task" 200 '[.completed, .due_date, .due_tz] | @tsv' $'false\t2026-01-03T16:00:00Z\tEurope/Paris' \
    -X PATCH "$API_URL/api/$(uid 0)/tasks/$rid/complete" -H "Authorization: Bearer $(token eddsa 0)"
}

# ---------------------------------------------------------------- measuring
CLK_TCK=$(getconf CLK_TCK)
NPROC=$(nproc)

# snap prints CPU ticks and the time: machine busy, the service, the time,
# then pid:ticks of each PostgreSQL process that works for the bench
# database (their process titles name it; autovacuum workers included) or
# is the shared WAL writer, checkpointer or background writer. Other
# databases on the same server count as other load.
snap() {
  local busy api=0 pg="" pid title f
  busy=$(awk '/^cpu /{print $2+$3+$4+$7+$8+$9; exit}' /proc/stat)
  # Builtins only below: the snapshot must be quick, pgbench's backends
  # are about to exit.
  if read -r -a f 2>/dev/null <"/proc/${API_PID:-0}/stat"; then api=$((f[13] + f[14])); fi
  for pid in $(pgrep -x postgres); do
    IFS= read -r -d '' title 2>/dev/null <"/proc/$pid/cmdline" || [[ -n $title ]] || continue
    case "$title " in
      *" $DB "* | *walwriter* | *checkpointer* | *"background writer"*) ;;
      *) continue ;;
    esac
    read -r -a f 2>/dev/null <"/proc/$pid/stat" || continue
    pg+=" $pid:$((f[13] + f[14]))"
  done
  echo "$busy $api $(date +%s.%N)$pg"
}

declare -A RPS P50 P99 ERR PG_TPS PG_P50 PG_P99 PG_ERR PG_C CPU_REQ PG_CPU_REQ GEN OTHER NOTE
TIMEFORMAT='%U %S'

# usage KEY S0 S1 GENERATOR_CPU_SECONDS [REQS]: sets OTHER (CPU of
# everything else, % of the machine between the two snapshots) and, given
# REQS, CPU_REQ and PG_CPU_REQ (µs of service and PostgreSQL CPU per request).
usage() {
  local key=$1 gen=$4 reqs=${5:-0} b0 a0 e0 b1 a1 e1 pg d
  read -r b0 a0 e0 _ <<<"$2"
  read -r b1 a1 e1 _ <<<"$3"
  # PostgreSQL: what each process spent between the snapshots; a process
  # born in between counts whole, one that ended in between (pgbench's
  # backends of the run before) not at all.
  pg=$(awk -v s0="$2" -v s1="$3" 'BEGIN{
    n = split(s0, a, " "); for (i = 4; i <= n; i++) { split(a[i], kv, ":"); t0[kv[1]] = kv[2] }
    n = split(s1, a, " "); for (i = 4; i <= n; i++) { split(a[i], kv, ":"); d += kv[2] - (kv[1] in t0 ? t0[kv[1]] : 0) }
    print d + 0 }')
  d=$(awk -v x="$e0" -v y="$e1" 'BEGIN{print y - x}')
  OTHER[$key]=$(awk -v b=$((b1 - b0)) -v a=$((a1 - a0)) -v p="$pg" -v g="$gen" -v hz="$CLK_TCK" -v n="$NPROC" -v d="$d" \
    'BEGIN{o=(b-a-p-g*hz)/(n*d*hz)*100; if(o<0)o=0; printf "%.0f%%", o}')
  if [[ $reqs -gt 0 ]]; then
    CPU_REQ[$key]=$(awk -v a=$((a1 - a0)) -v hz="$CLK_TCK" -v r="$reqs" 'BEGIN{printf "%.0f", a/hz*1e6/r}')
    PG_CPU_REQ[$key]=$(awk -v p="$pg" -v hz="$CLK_TCK" -v r="$reqs" 'BEGIN{printf "%.0f", p/hz*1e6/r}')
  fi
}

# window_share N S0 S1: the part of a run's N requests made between the two
# snapshots (the CPU is counted up to 0.25 s before the end of a run).
window_share() {
  awk -v n="$1" -v a="$(cut -d' ' -f3 <<<"$2")" -v b="$(cut -d' ' -f3 <<<"$3")" -v d="$DURATION" \
    'BEGIN{f=(b-a)/d; if(f>1)f=1; printf "%.0f", n*f}'
}

# csw prints the context switches (voluntary and not) so far of the
# service's threads, then of the bench database's PostgreSQL backends, then
# the service's read and write system calls (syscr, syscw of /proc/PID/io;
# PostgreSQL's recv and send are not counted there): how often each
# process slept or was preempted, and the service went to its sockets:
# counts other load on the machine moves less than CPU time (list-pair
# notes them per request). PostgreSQL's figures are only good when the
# pool kept its connections through the run: a backend that ended in
# between takes its counts away.
csw() {
  local t pid title api=0 pg=0 ar=0 aw=0
  for t in /proc/${API_PID:-0}/task/*/status; do
    api=$((api + $(awk '/ctxt_switches/{s+=$2} END{print s+0}' "$t" 2>/dev/null || echo 0)))
  done
  read -r ar aw < <(awk '/^syscr/{r=$2} /^syscw/{w=$2} END{print r+0, w+0}' "/proc/${API_PID:-0}/io" 2>/dev/null || echo 0 0)
  for pid in $(pgrep -x postgres); do
    IFS= read -r -d '' title 2>/dev/null <"/proc/$pid/cmdline" || [[ -n $title ]] || continue
    [[ "$title " == *" $DB "* ]] || continue
    pg=$((pg + $(awk '/ctxt_switches/{s+=$2} END{print s+0}' "/proc/$pid/status" 2>/dev/null || echo 0)))
  done
  echo "$api $pg $ar $aw"
}

# run_wrk KEY CONNS MODE TOKENS [QUERY] [USER]
run_wrk() {
  local key=$1 conns=$2 mode=$3 tokens=$4 query=${5:--} user=${6:--1} s0 s1 line t
  local threads=$((WRK_THREADS < conns ? WRK_THREADS : conns))
  say "wrk      $key: $mode, $conns connections, ${DURATION}s"
  local c0 c1
  [[ $key == pair-* ]] && c0=$(csw)
  s0=$(snap)
  { time wrk -t"$threads" -c"$conns" -d"${DURATION}s" --timeout "${WRK_TIMEOUT}s" -s "$LUA" "$API_URL" \
      -- "$mode" "$TMP/$tokens.tokens" "$PER" "$query" "$user" >"$TMP/wrk_$key.out" 2>&1; } 2>"$TMP/time_$key" &
  local wp=$!
  # The CPU is counted up to 0.25 s before the end, under full load: when
  # wrk closes its connections, the requests in flight are cancelled and
  # the service's pool closes their PostgreSQL connections (pgx does that
  # on a cancelled query), taking those backends' counters with them.
  sleep "$(awk -v d="$DURATION" 'BEGIN{print d - 0.25}')"
  s1=$(snap)
  [[ $key == pair-* ]] && c1=$(csw)
  wait "$wp" || die "wrk failed: $(tail -3 "$TMP/wrk_$key.out")"
  line=$(grep '^WRK_RESULT' "$TMP/wrk_$key.out") || die "wrk printed no result: $(tail -3 "$TMP/wrk_$key.out")"
  eval "$(sed -E 's/([a-z0-9_]+)=/w_\1=/g; s/^WRK_RESULT /local /' <<<"$line")"
  RPS[$key]=$(awk -v r="$w_requests" -v d="$w_duration_us" 'BEGIN{printf "%.0f", r/(d/1e6)}')
  P50[$key]=$(awk -v v="$w_p50_us" 'BEGIN{printf "%.2f", v/1000}')
  P99[$key]=$(awk -v v="$w_p99_us" 'BEGIN{printf "%.2f", v/1000}')
  ERR[$key]=$((w_connect + w_read + w_write + w_status + w_timeout))
  [[ ${ERR[$key]} == 0 ]] || NOTE[$key]+=" errors: connect $w_connect read $w_read write $w_write status $w_status timeout $w_timeout;"
  t=$(awk '{print $1+$2}' "$TMP/time_$key")
  GEN[$key]=$(awk -v t="$t" -v d="$DURATION" 'BEGIN{printf "%.0f%%", t/d*100}')
  usage "$key" "$s0" "$s1" "$t" "$(window_share "$w_requests" "$s0" "$s1")"
  if [[ $key == pair-* ]]; then
    NOTE[$key]+=" context switches per request: $(awk -v a="$c0" -v b="$c1" -v r="$(window_share "$w_requests" "$s0" "$s1")" \
      'BEGIN{split(a, x, " "); split(b, y, " "); printf "service %.2f, PostgreSQL %.2f; service reads/writes per request %.2f/%.2f", (y[1]-x[1])/r, (y[2]-x[2])/r, (y[3]-x[3])/r, (y[4]-x[4])/r}'), CPU µs/req ${CPU_REQ[$key]}/${PG_CPU_REQ[$key]};"
  fi
}

# run_pgbench KEY CONNS MODE SCRIPT[@WEIGHT]... (extra -D with PGB_EXTRA)
#
# pgbench runs PGBENCH_WARMUP + DURATION (+ 1) seconds and only DURATION
# seconds after the warm-up count: its transactions (from its -l log),
# their latency and PostgreSQL's CPU. The service's pooled backends
# are long warm when wrk measures them; pgbench's are new on each run, and
# a new backend first maps every shared buffer it touches (32 backends:
# about 45,000 page faults, costly in this VM, in the first 1-2 s on a
# loaded machine) and fills its caches: a 5 s run counted from the start
# measured that warm-up as much as the SQL, its rate swung up to 2x between
# rounds and its PostgreSQL CPU per transaction read 3-4x the service's per
# request (docs/PERFORMANCE.md, "The pair's twins").
run_pgbench() {
  local key=$1 conns=$2 mode=$3 s0 s1 t c j files=() f n w0 w1 start launch
  shift 3
  c=$((conns < PGBENCH_MAX_CLIENTS ? conns : PGBENCH_MAX_CLIENTS))
  j=$((PGBENCH_THREADS < c ? PGBENCH_THREADS : c))
  for f in "$@"; do files+=(-f "$SQL/$f"); done
  say "pgbench  $key: $*, -M $mode, $c clients, ${PGBENCH_WARMUP}s + ${DURATION}s"
  # One second more than is counted (and CONNECT_SLACK, below): pgbench's
  # backends exit with it, so both snapshots (taken at fixed times from the
  # connections, each taking up to some tenths of
  # a second on a loaded machine) fall inside the run. They once did not:
  # the second snapshot, DURATION - 0.25 s after the first, often came
  # after pgbench's end and missed its backends (PostgreSQL CPU per
  # transaction 0-10 µs).
  launch=$(date +%s.%N)
  { time pgbench -n -M "$mode" -c "$c" -j "$j" -T "$((CONNECT_SLACK + PGBENCH_WARMUP + DURATION + 1))" -D nusers="$USERS" -D per="$PER" ${PGB_EXTRA:-} \
      -l --log-prefix="$TMP/pgb_$key" "${files[@]}" "$BENCH_URL" >"$TMP/pgb_$key.out" 2>&1; } 2>"$TMP/time_pgb_$key" &
  local pgb=$!
  # pgbench's -T counts from its start, its clients' connections too:
  # 32 new backends took 3 s on a loaded machine (0.1 s per connection),
  # more than the warm-up. So the warm-up starts when every client is
  # connected (pg_stat_activity, polled every 0.1 s), and the run lasts
  # CONNECT_SLACK seconds more than the warm-up, the count and a second;
  # connections slower than that end pgbench before the second snapshot,
  # and the report's note says so.
  for _ in $(seq 300); do
    [[ $(psql "$TEST_DATABASE_URL" -Atqc "SELECT count(*) FROM pg_stat_activity WHERE datname = '$DB' AND application_name = 'pgbench' AND backend_start >= to_timestamp($launch)" 2>/dev/null) -ge $c ]] && break
    kill -0 "$pgb" 2>/dev/null || break
    sleep 0.1
  done
  start=$(date +%s.%N)
  sleep "$(awk -v s="$start" -v w="$PGBENCH_WARMUP" -v now="$(date +%s.%N)" 'BEGIN{d = s + w - now; print (d > 0 ? d : 0)}')"
  s0=$(snap)
  sleep "$(awk -v s="$start" -v w="$PGBENCH_WARMUP" -v d="$DURATION" -v now="$(date +%s.%N)" 'BEGIN{x = s + w + d - now; print (x > 0 ? x : 0)}')"
  s1=$(snap)
  local alive=1
  kill -0 "$pgb" 2>/dev/null || { alive=0; NOTE[$key]+=" pgbench ended before the second snapshot: its PostgreSQL CPU is not measured;"; }
  wait "$pgb" || true
  PG_ERR[$key]=$(sed -nE 's/^number of failed transactions: ([0-9]+).*/\1/p' "$TMP/pgb_$key.out" | head -1)
  PG_ERR[$key]=${PG_ERR[$key]:-0}
  PG_C[$key]=$c
  # The transactions that ended between the snapshots (a log line: client,
  # transaction, latency µs, script, end time s, µs).
  w0=$(cut -d' ' -f3 <<<"$s0")
  w1=$(cut -d' ' -f3 <<<"$s1")
  { cat "$TMP"/pgb_"$key".[0-9]* 2>/dev/null || true; } |
    awk -v a="$w0" -v b="$w1" '$3 ~ /^[0-9]+$/ { e = $5 + $6 / 1e6; if (e >= a && e < b) print $3 }' | sort -n >"$TMP/pgb_$key.lat"
  n=$(wc -l <"$TMP/pgb_$key.lat")
  PG_TPS[$key]=$(awk -v n="$n" -v a="$w0" -v b="$w1" 'BEGIN{printf "%.0f", (b > a ? n / (b - a) : 0)}')
  if [[ $n -gt 0 ]]; then
    PG_P50[$key]=$(sed -n "$(((n + 1) / 2))p" "$TMP/pgb_$key.lat" | awk '{printf "%.2f", $1/1000}')
    PG_P99[$key]=$(sed -n "$(((n * 99 + 99) / 100))p" "$TMP/pgb_$key.lat" | awk '{printf "%.2f", $1/1000}')
  else
    NOTE[$key]+=" pgbench failed: $(grep -m1 -E 'pgbench: error|FATAL|fatal:|abort' "$TMP/pgb_$key.out" || tail -1 "$TMP/pgb_$key.out");"
  fi
  rm -f "$TMP"/pgb_"$key".[0-9]* "$TMP/pgb_$key.lat"
  # time's figures are the file's last line (a run whose file had another
  # line before them gave two sums, and the script failed); pgbench's own
  # CPU, spread evenly over its run, is counted for the window's part.
  t=$(tail -1 "$TMP/time_pgb_$key" | awk -v d="$DURATION" -v w="$PGBENCH_WARMUP" '{print ($1 + $2) * d / (d + w + 1)}')
  [[ $alive == 1 ]] && usage "pgb_$key" "$s0" "$s1" "$t" "$n"
  return 0
}

# measure KEY [WRK_ARGS...] [-- PGBENCH_ARGS...]: ROUNDS rounds of a run
# of the service (run_wrk's arguments after KEY) and of its pgbench twin
# (run_pgbench's), interleaved so that both see the same machine. The table
# shows the best round of each (noise from other processes only ever slows
# a run down); errors are summed over all rounds; the notes list every round.
measure() {
  local key=$1 r
  shift
  for ((r = 1; r <= ROUNDS; r++)); do measure_round "$key" "$r" "$@"; done
  measure_pick "$key" "$@"
}

# measure_round KEY R WRK_ARGS... -- PGBENCH_ARGS...: round R of measure.
measure_round() {
  local key=$1 r=$2 a w=() p=() seen=0
  shift 2
  for a in "$@"; do
    if [[ $a == -- ]]; then seen=1; elif [[ $seen == 0 ]]; then w+=("$a"); else p+=("$a"); fi
  done
  [[ ${#w[@]} -gt 0 ]] && run_wrk "$key.r$r" "${w[@]}"
  [[ ${#p[@]} -gt 0 ]] && run_pgbench "$key.r$r" "${p[@]}"
  return 0
}

# measure_pick KEY WRK_ARGS... -- PGBENCH_ARGS...: the best rounds of KEY.
measure_pick() {
  local key=$1 a w=0 p=0 seen=0
  shift
  for a in "$@"; do
    if [[ $a == -- ]]; then seen=1; elif [[ $seen == 0 ]]; then w=1; else p=1; fi
  done
  [[ $w == 1 ]] && pick_wrk "$key"
  [[ $p == 1 ]] && pick_pgbench "$key"
  pick_notes "$key"
}

# pick_wrk KEY / pick_pgbench KEY: the best of the rounds KEY.r1... becomes KEY.
pick_wrk() {
  local key=$1 r v b=-1 best="" arr rounds="" errs=0
  for ((r = 1; r <= ROUNDS; r++)); do
    v=${RPS[$key.r$r]:-0}; rounds+="${rounds:+, }$v"; errs=$((errs + ${ERR[$key.r$r]:-0}))
    if ((v > b)); then b=$v; best=$key.r$r; fi
  done
  for arr in RPS P50 P99 CPU_REQ PG_CPU_REQ GEN OTHER; do eval "$arr[\$key]=\${$arr[\$best]:-}"; done
  ERR[$key]=$errs
  [[ $ROUNDS -gt 1 ]] && NOTE[$key]+=" req/s by round: $rounds;"
  return 0
}
pick_pgbench() {
  local key=$1 r v b=-1 best="" arr rounds=""
  for ((r = 1; r <= ROUNDS; r++)); do
    v=${PG_TPS[$key.r$r]:-0}; rounds+="${rounds:+, }$v"
    if ((v > b)); then b=$v; best=$key.r$r; fi
  done
  for arr in PG_TPS PG_P50 PG_P99 PG_ERR PG_C; do eval "$arr[\$key]=\${$arr[\$best]:-}"; done
  for arr in OTHER CPU_REQ PG_CPU_REQ; do eval "$arr[pgb_\$key]=\${$arr[pgb_\$best]:-}"; done
  [[ $ROUNDS -gt 1 ]] && NOTE[$key]+=" pgbench tx/s by round: $rounds;"
  return 0
}
pick_notes() {
  local key=$1 r
  for ((r = 1; r <= ROUNDS; r++)); do
    # (the round's label is empty with one round: an if, not `&&`, whose
    # status 1 as the assignment's would stop the script under set -e)
    if [[ -n ${NOTE[$key.r$r]:-} ]]; then
      NOTE[$key]+="$(if [[ $ROUNDS -gt 1 ]]; then echo " round $r:"; fi)${NOTE[$key.r$r]}"
    fi
  done
  return 0
}

warmup() { # TOKENS [MODE]
  say "warm-up  ${WARMUP}s, every user once ($1)"
  wrk -t1 -c32 -d"${WARMUP}s" -s "$LUA" "$API_URL" -- "${2:-seq}" "$TMP/$1.tokens" "$PER" >/dev/null 2>&1 || die "warm-up failed"
}

# perf_start / perf_stop NAME: a system-wide perf profile of the next
# DURATION-1 seconds (PROFILE=1, when perf works here), summarised per
# process, per process and object (kernel or user), and per PostgreSQL
# function.
PERF_PID=
perf_start() {
  PERF_PID=
  perf record -a -g -o "$TMP/perf-probe.data" -- true >/dev/null 2>&1 || return 0
  perf record -a -g -F 499 -o "$TMP/perf.data" -- sleep $((DURATION - 1)) >/dev/null 2>&1 &
  PERF_PID=$!
  PIDS+=($PERF_PID)
}
perf_stop() {
  [[ -n $PERF_PID ]] || return 0
  wait "$PERF_PID" || true
  local f=$OUT/perf-$1-$STAMP.txt
  {
    echo "== CPU per process (system-wide, ${DURATION}s run)"
    perf report -i "$TMP/perf.data" --no-children --sort comm --stdio 2>/dev/null | grep -E '^ +[0-9]' | head -12 || true
    echo "== per process and object ([kernel.kallsyms] is kernel time: TCP, scheduling)"
    perf report -i "$TMP/perf.data" --no-children --sort comm,dso --stdio -g none 2>/dev/null | grep -E '^ +[0-9]' | head -16 || true
    echo "== PostgreSQL, top functions"
    perf report -i "$TMP/perf.data" --no-children --comms postgres --sort sym --stdio -g none 2>/dev/null | grep -E '^ +[0-9]' | head -30 || true
  } >"$f"
  say "perf: $f"
}

rss() { # PID -> "VmRSS VmHWM" in MiB
  awk '/^VmRSS|^VmHWM/{v[$1]=$2} END{printf "%.1f MiB (peak VmHWM %.1f MiB)", v["VmRSS:"]/1024, v["VmHWM:"]/1024}' "/proc/$1/status"
}

# ---------------------------------------------------------------- the runs
ORDER=()
declare -A LABEL CONNS
row() { ORDER+=("$1"); LABEL[$1]=$2; CONNS[$1]=$3; }
EXTRA_LINES=()

if [[ $GROWTH != 1 ]]; then
  start_api api "$LOG_LEVEL_API"
  MAIN_API_PID=$API_PID
  say "service ready at $API_URL (LOG_LEVEL=$LOG_LEVEL_API, pool ${DB_MAX_CONNS:-default}${API_DB_PARAMS:+, $API_DB_PARAMS}); JWKS at $JWKS_URL"
  sanity
  PLANS=$OUT/plans-$STAMP.txt
  {
    echo "== list (user 0, $PER tasks)"
    psql "$BENCH_URL" -Atqc "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT id, title, description, completed, created_at, updated_at FROM tasks WHERE user_id = '$(uid 0)' $LIVE ORDER BY created_at, id"
    echo "== get"
    psql "$BENCH_URL" -Atqc "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT id, title, description, completed, created_at, updated_at FROM tasks WHERE id = $(task_id 0 3) AND user_id = '$(uid 0)' $LIVE"
  } >"$PLANS" 2>&1
  warmup eddsa
  warmup hs256
  RSS_IDLE=$(rss "$API_PID")

  if want list32; then
    row list32 "list (EdDSA)" 32
    if [[ $PROFILE == 1 ]]; then
      curl -sS -o "$OUT/cpu-list32-$STAMP.pprof" "$PPROF_URL/debug/pprof/profile?seconds=$((DURATION - 1))" &
      PROF_PID=$!
      PIDS+=($PROF_PID)
      perf_start
      run_wrk list32 32 list eddsa
      wait "$PROF_PID" || true
      perf_stop service-list32
      perf_start
      run_pgbench list32 32 prepared list.sql
      perf_stop pgbench-list32
      if want list32hs; then
        row list32hs "list (HS256)" 32
        run_wrk list32hs 32 list hs256
      fi
    else
      # EdDSA, HS256 and pgbench interleaved, round by round, so that the
      # EdDSA/HS256 comparison sees the same machine.
      # The order alternates: the first run after the warm-up starts with
      # new PostgreSQL connections (see run_wrk).
      for ((r = 1; r <= ROUNDS; r++)); do
        if ((r % 2 == 0)) && want list32hs; then run_wrk "list32hs.r$r" 32 list hs256; fi
        run_wrk "list32.r$r" 32 list eddsa
        if ((r % 2 == 1)) && want list32hs; then run_wrk "list32hs.r$r" 32 list hs256; fi
        run_pgbench "list32.r$r" 32 prepared list.sql
      done
      pick_wrk list32; pick_pgbench list32; pick_notes list32
      if want list32hs; then
        row list32hs "list (HS256)" 32
        pick_wrk list32hs; pick_notes list32hs
      fi
    fi
  fi
  if want list32hs && ! want list32; then
    row list32hs "list (HS256)" 32
    measure list32hs 32 list hs256
  fi
  if want list32hs && [[ -n ${PG_TPS[list32]:-} ]]; then
    PG_TPS[list32hs]=${PG_TPS[list32]}; PG_P50[list32hs]=${PG_P50[list32]}; PG_P99[list32hs]=${PG_P99[list32]}; PG_ERR[list32hs]=0; PG_C[list32hs]=32
    NOTE[list32hs]+=" pgbench: the list (EdDSA) run;"
  fi
  if want list128; then
    row list128 "list (EdDSA), memory" 128
    measure list128 128 list eddsa
    RSS_128=$(rss "$API_PID")
    NOTE[list128]+=" RSS after: $RSS_128;"
  fi
  if want list256; then
    row list256 "list (EdDSA)" 256
    measure list256 256 list eddsa -- 256 prepared list.sql
  fi
  if want list32simple && [[ $QUICK != 1 ]]; then
    row list32simple "list: pgbench -M simple" 32
    measure list32simple -- 32 simple list.sql
  fi
  if want list32info && [[ $QUICK != 1 && $PROFILE != 1 ]]; then
    row list32info "list (EdDSA), LOG_LEVEL=info" 32
    SAVED_PID=$API_PID SAVED_URL=$API_URL
    start_api api-info info
    warmup eddsa
    measure list32info 32 list eddsa
    INFO_LOG_BYTES=$(stat -c %s "$TMP/api-info.log")
    stop_api "$API_PID"
    API_PID=$SAVED_PID API_URL=$SAVED_URL
    if [[ -n ${PG_TPS[list32]:-} ]]; then PG_TPS[list32info]=${PG_TPS[list32]}; PG_P50[list32info]=${PG_P50[list32]}; PG_P99[list32info]=${PG_P99[list32]}; PG_ERR[list32info]=0; PG_C[list32info]=32; NOTE[list32info]+=" pgbench: the list (EdDSA) run; $((INFO_LOG_BYTES / 1024)) KiB of logs;"; fi
  fi
  if want get32; then
    row get32 "get" 32
    measure get32 32 get eddsa -- 32 prepared get.sql
  fi
  if want toggle32; then
    row toggle32 "toggle (PATCH complete)" 32
    measure toggle32 32 toggle eddsa -- 32 prepared toggle.sql
    NOTE[toggle32]+=" pgbench: one UPDATE ... RETURNING;"
    if [[ $QUICK != 1 ]]; then
      row toggle32tx "toggle: pgbench as the repository: SELECT, then UPDATE" 32
      measure toggle32tx -- 32 prepared toggle_tx.sql
    fi
  fi
  if want complete-recurring; then
    row complete-recurring "complete a repeating task (PATCH complete)" 32
    if has_column recurrence_rule; then
      setup_recurring
      measure complete-recurring 32 recur eddsa "$TMP/recurring.ids" -- 32 prepared complete_recurring.sql
      NOTE[complete-recurring]+=" each user's task every day at 17:00 Europe/Paris, each completion one day on;"
      NOTE[complete-recurring]+=" pgbench: read, then BEGIN, read, scope lock, read FOR UPDATE, UPDATE, INSERT occurrence, read subtasks, COMMIT;"
    else
      NOTE[complete-recurring]+=" this schema has no recurrence;"
    fi
  fi
  if want mixed32; then
    row mixed32 "mixed 80% list / 20% create" 32
    measure mixed32 32 mixed eddsa -- 32 prepared list.sql@8 create.sql@2
  fi
  if want create32; then
    row create32 "create (POST)" 32
    measure create32 32 create eddsa -- 32 prepared create.sql
  fi
  if want list-in-list; then
    row list-in-list "list in list (a list's 20 by position)" 32
    measure list-in-list 32 listin eddsa -- 32 prepared list_in_list.sql
  fi
  if [[ " $SCENARIOS " == *" list-pair "* ]]; then
    # list and list-in-list round by round (list, its pgbench, list-in-list,
    # its pgbench), so that both see the same moments of the machine: the
    # two scenarios measured one after the other once differed by 1.4x in
    # every process's CPU per request, wrk's included (docs/PERFORMANCE.md).
    row pair-list "list (EdDSA), alternated with list-in-list" 32
    row pair-in-list "list in list, alternated with list" 32
    # The order alternates too (list first in odd rounds, list-in-list in
    # even ones), so that neither always follows the other's pgbench run.
    for ((r = 1; r <= ROUNDS; r++)); do
      pair_order="pair-list pair-in-list"
      ((r % 2 == 0)) && pair_order="pair-in-list pair-list"
      for k in $pair_order; do
        # PROFILE=1: a CPU profile of the service during each wrk run of
        # the pair, compared with go tool pprof -diff_base.
        if [[ $PROFILE == 1 ]]; then
          curl -sS -o "$OUT/cpu-$k.r$r-$STAMP.pprof" "$PPROF_URL/debug/pprof/profile?seconds=$((DURATION - 1))" &
          PROF_PID=$!
          PIDS+=($PROF_PID)
          perf_start
        fi
        if [[ $k == pair-list ]]; then
          measure_round pair-list "$r" 32 list eddsa
        else
          measure_round pair-in-list "$r" 32 listin eddsa
        fi
        [[ $PROFILE == 1 ]] && { wait "$PROF_PID" || true; perf_stop "$k.r$r"; }
        if [[ $k == pair-list ]]; then
          measure_round pair-list "$r" -- 32 prepared list.sql
        else
          measure_round pair-in-list "$r" -- 32 prepared list_in_list.sql
        fi
      done
    done
    measure_pick pair-list 32 -- 32
    measure_pick pair-in-list 32 -- 32
  fi
  if want move; then
    row move "move (POST .../move, after a sibling)" 32
    measure move 32 move eddsa -- 32 prepared move.sql
    NOTE[move]+=" pgbench: one UPDATE ... RETURNING;"
  fi
  if want changes; then
    row changes "changes (GET .../changes, 5 back)" 32
    measure changes 32 changes eddsa "$TMP/cursors" -- 32 prepared changes.sql
    NOTE[changes]+=" pgbench: the feed's read (REPEATABLE READ: head, entries, tasks);"
  fi
  if want commands; then
    # Issue 17: an offline queue of 100 creates, as one batch or 100 requests.
    COMMANDS_LINE=$(go run ./bench/cmd/commandsbench -url "$API_URL" -user "$(uid 7)" -token "$(token eddsa 7)" \
      -rounds "$([[ $QUICK == 1 ]] && echo 5 || echo 15)") || die "commandsbench failed"
    say "commands: $COMMANDS_LINE"
    EXTRA_LINES+=("offline commands (issue 17): $COMMANDS_LINE")
  fi
  if want shared; then
    # Issue 19: user n becomes an editor of user n+1's list (the memberships
    # are made here, after every other scenario ran without any). The same
    # queries as an owner and as a member, interleaved round by round.
    if [[ $(psql "$BENCH_URL" -Atqc "SELECT to_regclass('list_members') IS NOT NULL") == t ]]; then
      psql "$BENCH_URL" -Atqc "INSERT INTO list_members (list_id, user_id, role, invited_by, created_at)
        SELECT (m.n + 1) % $USERS + 1, m.id, 'editor', o.id, now() FROM bench_users AS m
        JOIN bench_users AS o ON o.n = (m.n + 1) % $USERS; ANALYZE list_members" >/dev/null
      say "shared: $(psql "$BENCH_URL" -Atqc "SELECT count(*) FROM list_members") memberships"
      # User 0 reaches user 1's list (id 2) and its tasks.
      check "member: list in list" 200 length "$PER" \
        "$API_URL/api/$(uid 0)/tasks?list_id=2&parent_id=none&sort=position" -H "Authorization: Bearer $(token eddsa 0)"
      check "member: get" 200 .id "$(task_id 1 3)" "$API_URL/api/$(uid 0)/tasks/$(task_id 1 3)" -H "Authorization: Bearer $(token eddsa 0)"
      warmup eddsa
      row shared-list-owner "shared list, owner (a list's 20 by position)" 32
      row shared-list-member "shared list, member (the same query)" 32
      row shared-all-owner "all tasks, owner of a shared list" 32
      row shared-all-member "all tasks, member (also an owner)" 32
      row shared-get-owner "get a shared task, owner" 32
      row shared-get-member "get a shared task, member" 32
      # The owner's and the member's runs of a pair alternate their order
      # round by round (the owner first in odd rounds), as list-pair does,
      # so that neither always runs right after the other.
      for ((r = 1; r <= ROUNDS; r++)); do
        if ((r % 2 == 1)); then
          run_wrk "shared-list-owner.r$r" 32 listin eddsa
          run_wrk "shared-list-member.r$r" 32 sharedin eddsa
        else
          run_wrk "shared-list-member.r$r" 32 sharedin eddsa
          run_wrk "shared-list-owner.r$r" 32 listin eddsa
        fi
        run_wrk "shared-all-owner.r$r" 32 list eddsa
        if ((r % 2 == 1)); then
          run_wrk "shared-get-owner.r$r" 32 get eddsa
          run_wrk "shared-get-member.r$r" 32 sharedget eddsa
        else
          run_wrk "shared-get-member.r$r" 32 sharedget eddsa
          run_wrk "shared-get-owner.r$r" 32 get eddsa
        fi
      done
      for k in shared-list-owner shared-list-member shared-all-owner shared-get-owner shared-get-member; do
        pick_wrk "$k"; pick_notes "$k"
      done
      # Every user is an owner and a member: the all-tasks query of a
      # member is the same request as an owner's.
      NOTE[shared-all-member]+=" every user is also a member: the same requests as the row above;"
      NOTE[shared-list-member]+=" member ÷ owner: $(awk -v a="${RPS[shared-list-member]:-0}" -v b="${RPS[shared-list-owner]:-0}" 'BEGIN{if (b>0) printf "%.2f", a/b}');"
      NOTE[shared-get-member]+=" member ÷ owner: $(awk -v a="${RPS[shared-get-member]:-0}" -v b="${RPS[shared-get-owner]:-0}" 'BEGIN{if (b>0) printf "%.2f", a/b}');"
    else
      NOTE[shared-list-owner]+=" this schema has no list_members;"
    fi
  fi
  RSS_END=$(rss "$API_PID")
else
  # ------------------------------------------------------------ growth
  start_api api "$LOG_LEVEL_API"
  say "service ready at $API_URL; growth layout: user 0 has 100,000 tasks, user 1 has 100"
  WARMUP=5 warmup eddsa seqauth
  PLANS=$OUT/growth-plans-$STAMP.txt
  {
    for n in 0 1; do
      echo "== list, limit 50, user $n ($(psql "$BENCH_URL" -Atqc "SELECT tasks FROM bench_users WHERE n = $n") tasks)"
      psql "$BENCH_URL" -Atqc "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT id, title, description, completed, created_at, updated_at $MORE FROM tasks WHERE user_id = '$(uid $n)' $LIVE ORDER BY created_at, id LIMIT 51"
      if [[ $(psql "$BENCH_URL" -Atqc "SELECT to_regclass('task_counts') IS NOT NULL") == t ]]; then
        echo "== its X-Total-Count, user $n"
        psql "$BENCH_URL" -Atqc "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT live, completed FROM task_counts WHERE user_id = '$(uid $n)'"
      fi
    done
    echo "== create"
    psql "$BENCH_URL" -Atqc "BEGIN; EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) INSERT INTO tasks (user_id, title, description, completed, created_at, updated_at $COLS) VALUES ('$(uid 5)', 'plan', NULL, false, now(), now() $VALS) RETURNING id; ROLLBACK;"
  } >"$PLANS" 2>&1
  say "query plans in $PLANS"
  LIMIT_OK=$(curl -sS "$API_URL/api/$(uid 1)/tasks?limit=50" -H "Authorization: Bearer $(token eddsa 1)" | jq length)
  for n in 1 0; do
    key=list50u$n
    row $key "list limit=50, user $n ($([[ $n == 0 ]] && echo 100,000 || echo 100) tasks)" 32
    if [[ $LIMIT_OK == 50 ]]; then
      PGB_EXTRA="-D user=$n" measure $key 32 list eddsa "?limit=50" $n -- 32 prepared list50.sql
    else
      NOTE[$key]+=" API: no limit parameter yet (GET returned $LIMIT_OK tasks), pgbench only;"
      PGB_EXTRA="-D user=$n" measure $key -- 32 prepared list50.sql
    fi
  done
  row create32 "create (POST), 1,000,000-task table" 32
  measure create32 32 create eddsa -- 32 prepared create.sql
  RSS_END=$(rss "$API_PID")
fi

# ------------------------------------------------------- reminders (issue 18)
REMINDERS_REPORT=""
if want reminders; then
  say "reminders: the scheduler's throughput to a local webhook receiver, 1 and 2 instances"
  go build -o "$TMP/bin/" ./bench/cmd/reminders
  REMINDERS_REPORT=$("$TMP/bin/reminders" -bin "$API_BIN" -db "$TEST_DATABASE_URL" -n "${REMINDERS_N:-2000}" -instances 1,2)
fi

# ---------------------------------------------------------------- the table
ratio() { awk -v a="${1:-0}" -v b="${2:-0}" 'BEGIN{if (a>0 && b>0) printf "%.2f", a/b; else printf "-"}'; }
ratio4() { awk -v a="${1:-0}" -v b="${2:-0}" 'BEGIN{if (a>0 && b>0) printf "%.4f", a/b; else printf "-"}'; }
REPORT=$OUT/bench-$STAMP.txt
MD=$OUT/bench-$STAMP.md
{
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' scenario conns "req/s" "p50 ms" "p99 ms" errors \
    "pgbench tx/s" "pgbench p99 ms" "ratio" "API CPU µs/req" "PG CPU µs/req" "other load"
  for k in "${ORDER[@]}"; do
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "${LABEL[$k]}" "${CONNS[$k]}" "${RPS[$k]:--}" "${P50[$k]:--}" \
      "${P99[$k]:--}" "${ERR[$k]:--}" "${PG_TPS[$k]:--}$([[ -n ${PG_C[$k]:-} && ${PG_C[$k]} != "${CONNS[$k]}" ]] && echo " (c=${PG_C[$k]})")" \
      "${PG_P99[$k]:--}" "$(ratio "${RPS[$k]:-0}" "${PG_TPS[$k]:-0}")" "${CPU_REQ[$k]:--}" "${PG_CPU_REQ[$k]:--}/${PG_CPU_REQ[pgb_$k]:--}" "${OTHER[$k]:--}/${OTHER[pgb_$k]:--}"
  done
} >"$TMP/table.tsv"

{
  echo
  echo "todo-api vs pgbench, $(date -u +%Y-%m-%dT%H:%MZ), $([[ $QUICK == 1 ]] && echo QUICK, )${DURATION}s per run, best of $ROUNDS round(s), $([[ $GROWTH == 1 ]] && echo "growth layout: 1,000,000 tasks, $USERS users" || echo "$USERS users × $PER tasks")"
  echo "machine: $NPROC CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(go version | awk '{print $3}'), $(psql "$TEST_DATABASE_URL" -Atqc 'SHOW server_version' | awk '{print "PostgreSQL " $1}'), wrk $WRK_THREADS thread(s), pgbench -j $PGBENCH_THREADS"
  echo "service: LOG_LEVEL=$LOG_LEVEL_API, DB_MAX_CONNS=${DB_MAX_CONNS:-default}${API_DB_PARAMS:+, $API_DB_PARAMS}$([[ $PROFILE == 1 ]] && echo ', profserve (pprof build)')"
  echo
  column -t -s $'\t' "$TMP/table.tsv"
  echo
  echo "ratio = service req/s ÷ pgbench tx/s (same SQL, -M prepared, same clients, same duration; pgbench counted after ${PGBENCH_WARMUP}s of warm-up, its backends being new); (c=N): pgbench capped at PGBENCH_MAX_CLIENTS=$PGBENCH_MAX_CLIENTS for max_connections."
  echo "CPU µs/req from /proc: the service's own, and PostgreSQL's (the bench database's backends, autovacuum, WAL writer, checkpointer) per service request / per pgbench transaction."
  echo "other load = CPU used by neither the service, PostgreSQL nor the load generator, % of the machine (wrk run/pgbench run): noise."
  for k in "${ORDER[@]}"; do [[ -n ${NOTE[$k]:-} ]] && echo "note ${LABEL[$k]} (${CONNS[$k]}):${NOTE[$k]}"; done
  if [[ -n ${RPS[list32]:-} && -n ${RPS[list32hs]:-} ]]; then
    echo "EdDSA ÷ HS256 list throughput: $(ratio "${RPS[list32]}" "${RPS[list32hs]}")"
  fi
  if [[ -n ${RPS[list32]:-} && -n ${RPS[list-in-list]:-} ]]; then
    echo "list-in-list ratio ÷ list ratio: $(ratio "$(ratio "${RPS[list-in-list]}" "${PG_TPS[list-in-list]:-0}")" "$(ratio "${RPS[list32]}" "${PG_TPS[list32]:-0}")")"
  fi
  if [[ -n ${RPS[pair-list]:-} && -n ${RPS[pair-in-list]:-} ]]; then
    pr=""
    for ((r = 1; r <= ROUNDS; r++)); do
      pr+="${pr:+, }$(ratio "$(ratio4 "${RPS[pair-in-list.r$r]:-0}" "${PG_TPS[pair-in-list.r$r]:-0}")" "$(ratio4 "${RPS[pair-list.r$r]:-0}" "${PG_TPS[pair-list.r$r]:-0}")")"
    done
    echo "list-in-list ratio ÷ list ratio, alternated (list-pair): $(ratio "$(ratio4 "${RPS[pair-in-list]}" "${PG_TPS[pair-in-list]:-0}")" "$(ratio4 "${RPS[pair-list]}" "${PG_TPS[pair-list]:-0}")") of the best rounds; by round: $pr"
  fi
  if [[ -n ${RPS[list32]:-} && -n ${RPS[list32info]:-} ]]; then
    echo "LOG_LEVEL=info ÷ LOG_LEVEL=warn list throughput: $(ratio "${RPS[list32info]}" "${RPS[list32]}")"
  fi
  [[ -n ${RSS_IDLE:-} ]] && echo "service memory after warm-up: VmRSS $RSS_IDLE"
  [[ -n ${RSS_128:-} ]] && echo "service memory after 128 connections: VmRSS $RSS_128"
  echo "service memory at the end: VmRSS $RSS_END"
  for l in "${EXTRA_LINES[@]}"; do echo "$l"; done
  [[ -n $REMINDERS_REPORT ]] && echo "$REMINDERS_REPORT"
  for k in "${ORDER[@]}"; do [[ -n ${GEN[$k]:-} ]] && printf 'wrk CPU %s: %s of one core\n' "$k" "${GEN[$k]}"; done | paste -sd';' | sed 's/;/; /g'
} | tee "$REPORT"

# The same table in Markdown, for docs/PERFORMANCE.md.
awk -F'\t' 'NR==1{h="|"; s="|"; for(i=1;i<=NF;i++){h=h" "$i" |"; s=s"---|"} print h; print s; next}
  {r="|"; for(i=1;i<=NF;i++) r=r" "$i" |"; print r}' "$TMP/table.tsv" >"$MD"

if [[ $PROFILE == 1 && -s $OUT/cpu-list32-$STAMP.pprof ]]; then
  go tool pprof -top -nodecount=35 "$API_BIN" "$OUT/cpu-list32-$STAMP.pprof" >"$OUT/pprof-top-$STAMP.txt" 2>/dev/null || true
  go tool pprof -top -cum -nodecount=45 "$API_BIN" "$OUT/cpu-list32-$STAMP.pprof" >"$OUT/pprof-cum-$STAMP.txt" 2>/dev/null || true
  go tool pprof -traces "$API_BIN" "$OUT/cpu-list32-$STAMP.pprof" 2>/dev/null | awk -f "$ROOT/bench/profsum.awk" >"$OUT/pprof-where-$STAMP.txt" || true
  echo
  echo "Where the service's CPU goes during list (32 connections), by library:"
  cat "$OUT/pprof-where-$STAMP.txt"
  say "CPU profile: $OUT/cpu-list32-$STAMP.pprof (summaries: $OUT/pprof-{where,top,cum}-$STAMP.txt)"
fi
# Live events (issue 16): two instances of their own on a fresh database
# (bench/cmd/eventsbench): 201 on A -> event on B while 32 clients write,
# then 10,000 idle streams on B (memory, list throughput and CPU per list
# request without and with them).
if want events && [[ $GROWTH != 1 ]]; then
  say "events: latency across instances (32 writers), then 10,000 idle streams"
  go build -o "$TMP/bin/" ./bench/cmd/eventsbench
  EV_ARGS=(-bin "$API_BIN" -db "$TEST_DATABASE_URL")
  [[ $QUICK == 1 ]] && EV_ARGS+=(-duration 3s -toggle-duration 3s -list-duration 2s)
  { echo; echo "Live events (issue 16), $(date -u +%Y-%m-%dT%H:%MZ), load average $(cut -d' ' -f1-3 /proc/loadavg):"
    "$TMP/bin/eventsbench" "${EV_ARGS[@]}"; } | tee -a "$REPORT" || die "eventsbench failed"
fi
say "report: $REPORT, markdown table: $MD; total $((SECONDS - START_TIME)) s"
