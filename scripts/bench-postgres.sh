#!/usr/bin/env bash
# One runner on SQLite against three runners sharing a PostgreSQL state, on the same crawl:
# FEEDS feeds (default 10,000) over HOSTS loopback hosts (default 500; 127.0.0.2 ...),
# latency 20-80 ms, per_host 1, min_interval 1000 ms, concurrency CONC (default 500), cold
# (every page new, empty state). Prints per run: wall time against the politeness floor
# (feeds per host x 1 s after robots.txt), requests served and the peak of requests in
# flight per host (must be 1), peak RSS of each runner (GNU time), and for PostgreSQL the
# statements each runner sent per feed (counted in the client; logged at the end of its
# round) and the server's transactions per feed (pg_stat_database). Then an idle tick
# (nothing due) for both.
#
#   scripts/bench-postgres.sh                       # 10,000 feeds / 500 hosts
#   FEEDS=1000 HOSTS=50 scripts/bench-postgres.sh   # a quick look
#
# Needs Debian's postgresql binaries (/usr/lib/postgresql/*/bin) and GNU time. Starts its own
# throwaway server on a free loopback port (as the postgres user when run as root) and stops
# it, and everything else, after at most BENCH_DEADLINE seconds (default 900).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
feeds=${FEEDS:-10000}
hosts=${HOSTS:-500}
conc=${CONC:-500}
runners=${RUNNERS:-3}
deadline=${BENCH_DEADLINE:-900}

pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$pgbin" ] || [ ! -x "$pgbin/initdb" ]; then
  echo "skip: no PostgreSQL binaries (apt-get install postgresql)"
  exit 0
fi
if [ ! -x /usr/bin/time ]; then
  echo "skip: /usr/bin/time (GNU time) not found; apt-get install time"
  exit 0
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/scifeed-pgbench.XXXXXX")
chmod 755 "$tmp"
as_pg=()
if [ "$(id -u)" = 0 ]; then as_pg=(runuser -u postgres --); fi
server_pid=
watchdog_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  [ -d "$tmp/pg" ] && "${as_pg[@]}" "$pgbin/pg_ctl" -D "$tmp/pg" -m immediate stop >/dev/null 2>&1 || true
  [ -n "$watchdog_pid" ] && kill "$watchdog_pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'echo "bench-postgres: deadline of ${deadline}s reached, stopping" >&2; exit 3' TERM
(sleep "$deadline" && kill -TERM $$) 2>/dev/null &
watchdog_pid=$!
say() { printf '\n== %s\n' "$*"; }

say "building scifeed (release) and the bench helper"
cargo build --release --locked -q --bin scifeed
scifeed=${CARGO_TARGET_DIR:-$repo/target}/release/scifeed
kit=$(cargo build --release --locked -q --bench benchkit --message-format=json \
  | python3 -c 'import json,sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "benchkit" and m.get("executable"):
        print(m["executable"])')

say "PostgreSQL $("$pgbin/postgres" --version | awk '{print $3}') in $tmp/pg (defaults: fsync and synchronous_commit on)"
mkdir -p "$tmp/pg" "$tmp/sock"
[ ${#as_pg[@]} -gt 0 ] && chown postgres: "$tmp/pg" "$tmp/sock"
"${as_pg[@]}" "$pgbin/initdb" -A trust -U postgres -E UTF8 -D "$tmp/pg" >/dev/null
pgport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"${as_pg[@]}" "$pgbin/pg_ctl" -D "$tmp/pg" -l "$tmp/sock/pg.log" -w \
  -o "-p $pgport -c listen_addresses=127.0.0.1 -k $tmp/sock -c max_connections=100" start >/dev/null
psql() { "$pgbin/psql" -X -q -t -A -h 127.0.0.1 -p "$pgport" -U postgres "$@"; }
psql -d postgres -c "CREATE DATABASE bench" >/dev/null
url="postgres://postgres@127.0.0.1:$pgport/bench?sslmode=disable"
xacts() { psql -d postgres -c "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = 'bench'"; }

say "page server: $hosts hosts, latency 20-80 ms"
"$kit" serve --hosts "$hosts" --latency 20-80 --port-file "$tmp/port" --deadline-secs "$deadline" &
server_pid=$!
for _ in $(seq 200); do [ -s "$tmp/port" ] && break; sleep 0.05; done
port=$(cat "$tmp/port")
"$kit" configs --out "$tmp/cfg" --feeds "$feeds" --hosts "$hosts" --port "$port" --synthetic \
  --per-host 1 --concurrency "$conc" --min-interval 1000 >/dev/null
# Every feed due once an hour: the idle tick after the cold run finds nothing due.
sed -i 's/^robots = true$/robots = true\nevery = "1h"/' "$tmp/cfg/scifeed.toml"
# A runner holds at most `concurrency` hosts: the PostgreSQL runners get a third of the hosts'
# worth each (CONC_PG), so together they can keep every host busy and they split the hosts.
conc_pg=${CONC_PG:-$(( (hosts + runners - 1) / runners + 10 ))}
sed "s/^concurrency = .*/concurrency = $conc_pg/" "$tmp/cfg/scifeed.toml" >"$tmp/cfg/shared.toml"
per_host=$(( (feeds + hosts - 1) / hosts ))
# robots.txt at 0 s, then each page 1 s after the one before, the last answered ~0.05 s later.
floor=$(awk -v n="$per_host" 'BEGIN{printf "%.1f", n * 1.0 + 0.1}')
echo "politeness floor: robots.txt, then $per_host pages per host, requests 1 s apart = about $floor s"

# run NAME CONFIG STATE OUTDIR: one runner under GNU time, in the background; its log is kept.
run() {
  local name=$1 config=$2 state=$3 out=$4
  RUST_LOG=scifeed::pipeline=info /usr/bin/time -f '%e %U %S %M %x' -o "$tmp/$name.time" \
    "$scifeed" run -c "$config" --state "$state" --output-dir "$out" \
    >"$tmp/$name.out" 2>"$tmp/$name.log" &
}
report() {
  local name=$1
  local wall user sys rss code
  read -r wall user sys rss code < <(tail -n 1 "$tmp/$name.time")
  local line
  line=$(grep -o '[0-9]* statements to the state for [0-9]* feeds ([0-9.]* per feed)' "$tmp/$name.log" | tail -n 1 || true)
  printf '  %-10s wall %6.2f s (%.2fx floor)  cpu %5.2f s  peak RSS %6.1f MiB  exit %s  %s\n' \
    "$name" "$wall" "$(awk -v w="$wall" -v f="$floor" 'BEGIN{print w / f}')" \
    "$(awk -v u="$user" -v s="$sys" 'BEGIN{print u + s}')" \
    "$(awk -v r="$rss" 'BEGIN{print r / 1024}')" "$code" "${line:+($line)}"
}
stats() { "$kit" stats --port "$port"; }

# BASELINE=/path/to/an/older/scifeed: the same cold SQLite run with it first, for comparison.
if [ -n "${BASELINE:-}" ]; then
  say "cold: 1 runner on SQLite with $BASELINE"
  stats >/dev/null
  scifeed_ours=$scifeed
  scifeed=$BASELINE
  run "baseline-cold" "$tmp/cfg/scifeed.toml" "$tmp/baseline.db" "$tmp/out-baseline"
  wait $! || true
  scifeed=$scifeed_ours
  report "baseline-cold"
  echo "  requests, 304s, peak in flight per host: $(stats)"
fi

for phase in cold idle; do
  say "$phase: 1 runner on SQLite (concurrency $conc)"
  stats >/dev/null
  run "sqlite-$phase" "$tmp/cfg/scifeed.toml" "$tmp/sqlite.db" "$tmp/out-sqlite"
  wait $! || true
  report "sqlite-$phase"
  echo "  requests, 304s, peak in flight per host: $(stats)"

  say "$phase: $runners runners on one PostgreSQL state (concurrency $conc_pg each), shared output directory"
  stats >/dev/null
  x0=$(xacts)
  pids=()
  t0=$(date +%s%N)
  for i in $(seq "$runners"); do
    run "pg$i-$phase" "$tmp/cfg/shared.toml" "$url" "$tmp/out-pg"
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || true; done
  t1=$(date +%s%N)
  x1=$(xacts)
  for i in $(seq "$runners"); do report "pg$i-$phase"; done
  awk -v a="$t0" -v b="$t1" -v f="$floor" 'BEGIN{printf "  all runners: wall %.2f s (%.2fx floor)\n", (b - a) / 1e9, (b - a) / 1e9 / f}'
  echo "  requests, 304s, peak in flight per host: $(stats)"
  awk -v a="$x0" -v b="$x1" -v n="$feeds" 'BEGIN{printf "  server transactions: %d, %.2f per feed\n", b - a, (b - a) / n}'
  fed=$(cat "$tmp"/pg*-"$phase".out | grep -c ' updated \| unchanged \| not modified ' || true)
  echo "  feeds processed by the runners together: $fed"
done
ls "$tmp/out-pg" | grep -c '\.rss$' | xargs echo "  rss files written from the PostgreSQL runs:"
