#!/usr/bin/env bash
# scifeed next to rsspls on the same saved listing pages and the same selectors, on loopback
# only (127.0.0.2 .. 127.0.1.245), runs interleaved (scifeed, rsspls, scifeed, ...), medians
# and min-max printed with the ratio scifeed / rsspls. Wall and CPU (user + sys) and peak RSS
# come from /usr/bin/time -v style counters (GNU time); wall is also taken in the shell for
# millisecond resolution.
#
#   scripts/bench-vs-rsspls.sh                # RUNS=5, installs rsspls with cargo into a temp dir
#   RSSPLS=~/.cargo/bin/rsspls RUNS=7 scripts/bench-vs-rsspls.sh
#   QUICK=1 scripts/bench-vs-rsspls.sh        # 3 runs, no 10,000-feed scale run
#
# Needs ../shared/corpus/pages (skips with a message otherwise). The whole script stops
# itself after 15 minutes (BENCH_DEADLINE seconds), and so do the page servers it starts.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
shared=${SCIFEED_SHARED:-$repo/../shared}
pages=$shared/corpus/pages
runs=${RUNS:-5}
quick=${QUICK:-0}
[ "$quick" = 1 ] && runs=${RUNS:-3}
deadline=${BENCH_DEADLINE:-900}

if [ ! -d "$pages" ]; then
  echo "skip: $pages not found; the benchmark needs the saved corpus pages"
  exit 0
fi
if [ ! -x /usr/bin/time ]; then
  echo "skip: /usr/bin/time (GNU time) not found; apt-get install time"
  exit 0
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/scifeed-bench.XXXXXX")
server_pid=
watchdog_pid=
stop_server() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=
  fi
}
cleanup() {
  stop_server
  [ -n "$watchdog_pid" ] && kill "$watchdog_pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'echo "bench-vs-rsspls: deadline of ${deadline}s reached, stopping" >&2; exit 3' TERM
(sleep "$deadline" && kill -TERM $$) 2>/dev/null &
watchdog_pid=$!

say() { printf '\n== %s\n' "$*"; }

# --- binaries ------------------------------------------------------------------------------
target=${CARGO_TARGET_DIR:-$repo/target}
say "building scifeed (release) and the bench helper"
cargo build --release --locked -q --bin scifeed
scifeed=$target/release/scifeed
# The helper is a bench target (benches/benchkit.rs); cargo names its binary with a hash.
kit=$(cargo build --release --locked -q --bench benchkit --message-format=json \
  | python3 -c 'import json,sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "benchkit" and m.get("executable"):
        print(m["executable"])')
[ -x "$kit" ] || { echo "cannot build the bench helper" >&2; exit 1; }
if [ -n "${RSSPLS:-}" ]; then
  rsspls=$RSSPLS
else
  say "installing rsspls with cargo into $tmp/rsspls (a few minutes)"
  cargo install -q --locked --root "$tmp/rsspls" rsspls
  rsspls=$tmp/rsspls/bin/rsspls
fi
echo "scifeed: $scifeed"
echo "rsspls:  $rsspls ($("$rsspls" --version 2>/dev/null || echo '?'))"
# rsspls keeps its conditional-GET cache under XDG_CACHE_HOME.
export XDG_CACHE_HOME=$tmp/xdg-cache XDG_CONFIG_HOME=$tmp/xdg-config RSSPLS_LOG=error
unset RUST_LOG

# --- helpers ---------------------------------------------------------------------------------
results=$tmp/results
: >"$results"
port=

# start_server ARGS...: a fresh page server (stops by itself after the deadline).
start_server() {
  stop_server
  rm -f "$tmp/port"
  "$kit" serve --pages "$pages" --port-file "$tmp/port" --deadline-secs "$deadline" "$@" &
  server_pid=$!
  for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.05; done
  port=$(cat "$tmp/port")
}

server_stats() { "$kit" stats --port "$port"; }

# measure NAME CMD...: runs CMD under GNU time; records "NAME wall_s cpu_s rss_kib exit".
measure() {
  local name=$1
  shift
  local t0 t1
  t0=$(date +%s%N)
  /usr/bin/time -f '%U %S %M %x' -o "$tmp/time.out" "$@" >"$tmp/cmd.out" 2>&1 || true
  t1=$(date +%s%N)
  local user sys rss code
  read -r user sys rss code < <(tail -n 1 "$tmp/time.out")
  if [ "$code" != 0 ]; then
    echo "warning: $name exited $code:" >&2
    tail -n 5 "$tmp/cmd.out" >&2
  fi
  echo "$name $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.4f", (b-a)/1e9}') \
$(awk -v u="$user" -v s="$sys" 'BEGIN{printf "%.2f", u+s}') $rss $code" >>"$results"
}

# stat NAME COLUMN -> "median min max" (COLUMN 2 wall, 3 cpu, 4 rss KiB)
stat() {
  awk -v n="$1" -v c="$2" '$1 == n {print $c}' "$results" | sort -g | awk '
    {v[NR] = $1}
    END {
      if (NR == 0) { print "nan nan nan"; exit }
      m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
      print m, v[1], v[NR]
    }'
}

# row LABEL NAME_A NAME_B COLUMN UNIT: one table line, medians (min-max), ratio A/B.
row() {
  local label=$1 a=$2 b=$3 col=$4 unit=$5
  read -r am an ax < <(stat "$a" "$col")
  read -r bm bn bx < <(stat "$b" "$col")
  awk -v l="$label" -v am="$am" -v an="$an" -v ax="$ax" -v bm="$bm" -v bn="$bn" -v bx="$bx" -v u="$unit" '
    function f(x) {
      if (u == "ms") return sprintf("%.0f", x * 1000)
      if (u == "ms/10") return sprintf("%.1f", x * 100)
      if (u == "MiB") return sprintf("%.1f", x / 1024)
      return sprintf("%.2f", x)
    }
    BEGIN {
      r = (bm > 0) ? sprintf("%.2f", am / bm) : "-"
      lu = (u == "ms/10") ? "ms" : u
      printf "%-44s %7s %-15s %7s %-15s %6s\n", l " (" lu ")", f(am), "(" f(an) "-" f(ax) ")", f(bm), "(" f(bn) "-" f(bx) ")", r
    }' | tee -a "$tmp/table"
}

fresh() { # fresh DIR: forget outputs and state of both tools
  rm -rf "$1/out-scifeed" "$1/out-rsspls" "$1/state" "$XDG_CACHE_HOME"
}
run_scifeed() { measure "$1" "$scifeed" run -q -c "$2/scifeed.toml"; }
run_rsspls() { mkdir -p "$2/out-rsspls"; measure "$1" "$rsspls" -c "$2/rsspls.toml"; }

sel=$repo/tests/corpus/feeds.toml
cfg() { "$kit" configs --selectors "$sel" --pages "$pages" "$@"; }

# --- 1. cold start, one feed over loopback ---------------------------------------------------
say "cold start: one feed (newscientist, 100 KB) over loopback, empty state, $runs runs each"
start_server --hosts 1 --latency 0
cfg --out "$tmp/one" --feeds 1 --offset 3 --hosts 1 --port "$port"
for _ in $(seq "$runs"); do
  fresh "$tmp/one"; run_scifeed cold-s "$tmp/one"
  fresh "$tmp/one"; run_rsspls cold-r "$tmp/one"
done

# --- 2. 100 pages from disk ------------------------------------------------------------------
say "100 pages from disk (file://, one copy per feed), empty state, $runs runs each"
cfg --out "$tmp/disk" --feeds 100 --file-dir "$tmp/disk/pages"
for _ in $(seq "$runs"); do
  fresh "$tmp/disk"; run_scifeed disk-s "$tmp/disk"
  fresh "$tmp/disk"; run_rsspls disk-r "$tmp/disk"
done

# --- 3. 100 pages over loopback, 0 ms --------------------------------------------------------
say "100 pages over loopback on 20 hosts, 0 ms latency, empty state, $runs runs each"
start_server --hosts 20 --latency 0
cfg --out "$tmp/loop" --feeds 100 --hosts 20 --port "$port" --per-host 1 --concurrency 32
for _ in $(seq "$runs"); do
  fresh "$tmp/loop"; server_stats >/dev/null; run_scifeed loop-s "$tmp/loop"
  read -r _ req_s _ _ _ _ < <(server_stats)
  fresh "$tmp/loop"; run_rsspls loop-r "$tmp/loop"
  read -r _ req_r _ _ _ _ < <(server_stats)
done
echo "requests per run: scifeed $req_s (robots.txt included), rsspls $req_r"

# --- 4. nothing changed: every page answers 304 ---------------------------------------------
say "100 feeds, nothing changed (all 304), $runs runs each"
fresh "$tmp/loop"
"$scifeed" run -q -c "$tmp/loop/scifeed.toml" || true
mkdir -p "$tmp/loop/out-rsspls"; "$rsspls" -c "$tmp/loop/rsspls.toml" 2>/dev/null || true
written=0
# One measurement = 10 runs back to back (GNU time counts CPU in 10 ms steps).
for _ in $(seq "$runs"); do
  touch "$tmp/marker"; sleep 0.01
  server_stats >/dev/null
  measure same-s sh -c 'for i in 1 2 3 4 5 6 7 8 9 10; do "$0" run -q -c "$1" || exit 1; done' \
    "$scifeed" "$tmp/loop/scifeed.toml"
  read -r _ req _ nm _ _ < <(server_stats)
  n=$(find "$tmp/loop/out-scifeed" -newer "$tmp/marker" -type f | wc -l)
  written=$((written + n))
  [ "$nm" = 1000 ] || echo "warning: scifeed got $nm x 304 of $req requests (want 1000)" >&2
  measure same-r sh -c 'for i in 1 2 3 4 5 6 7 8 9 10; do "$0" -c "$1" || exit 1; done' \
    "$rsspls" "$tmp/loop/rsspls.toml"
done
echo "scifeed: feed files written in all 304 runs: $written (must be 0); state dir untouched: \
$( [ -z "$(find "$tmp/loop/state" -newer "$tmp/marker" -name '*.db' -type f)" ] && echo yes || echo no)"

# --- 5. 100 feeds on 20 hosts, 200 ms latency ------------------------------------------------
say "100 feeds on 20 hosts, 200 ms latency, $runs runs each"
start_server --hosts 20 --latency 200
cfg --out "$tmp/lat1" --feeds 100 --hosts 20 --port "$port" --per-host 1 --concurrency 32
cfg --out "$tmp/lat5" --feeds 100 --hosts 20 --port "$port" --per-host 5 --concurrency 100
# A state whose robots.txt answers are cached (as in every cron run within 24 h) but that
# knows no page: the polite crawler's steady state when every page changed.
fresh "$tmp/lat5"
"$scifeed" run -q -c "$tmp/lat5/scifeed.toml" || true
"$kit" forget-pages --state "$tmp/lat5/state/scifeed.db"
cp "$tmp/lat5/state/scifeed.db" "$tmp/robots-only.db"
peak1=0
for _ in $(seq "$runs"); do
  fresh "$tmp/lat1"; server_stats >/dev/null; run_scifeed lat1-s "$tmp/lat1"
  read -r _ _ _ _ _ peak1 < <(server_stats)
  fresh "$tmp/lat5"; run_scifeed lat5-s "$tmp/lat5"
  fresh "$tmp/lat5"; mkdir -p "$tmp/lat5/state"; cp "$tmp/robots-only.db" "$tmp/lat5/state/scifeed.db"
  run_scifeed lat5w-s "$tmp/lat5"
  fresh "$tmp/lat5"; run_rsspls lat5-r "$tmp/lat5"
done
echo "per_host=1 run: peak requests in flight per host $peak1 (must be 1)"
stop_server

# --- 6. history: 1,000,000 stored items must not slow a run that changes 100 ----------------
say "history: a run changing 100 items over 1,000,000 stored items vs over 10,000"
start_server --hosts 20 --latency 0 --salt s0
cfg --out "$tmp/hist" --feeds 100 --hosts 20 --port "$port" --synthetic --per-host 1 --concurrency 32
mkdir -p "$tmp/hist/state"
t0=$(date +%s)
"$kit" prefill --state "$tmp/hist/state/big.db" --items 1000000 --feeds 10000
echo "prefill took $(( $(date +%s) - t0 ))s; store $(du -h "$tmp/hist/state/big.db" | cut -f1)"
# The same 100 old items in each of the measured feeds f0..f99, without the 9,900 others.
"$kit" prefill --state "$tmp/hist/state/small.db" --items 10000 --feeds 100
for db in big small; do
  "$scifeed" run -q -c "$tmp/hist/scifeed.toml" --state "$tmp/hist/state/$db.db" \
    --output-dir "$tmp/hist/out-$db" || true
done
for i in $(seq "$runs"); do
  "$kit" salt --port "$port" --salt "s$i" >/dev/null
  for db in big small; do
    measure "hist-$db" "$scifeed" run -q -c "$tmp/hist/scifeed.toml" \
      --state "$tmp/hist/state/$db.db" --output-dir "$tmp/hist/out-$db"
  done
done
stop_server

# --- 7. scale: 10,000 feeds over 500 hosts ---------------------------------------------------
if [ "$quick" != 1 ]; then
  say "scale: 10,000 feeds over 500 hosts, latency 20-80 ms, per_host 1, min_interval 1000 ms, concurrency 500 (1 run)"
  start_server --hosts 500 --latency 20-80
  cfg --out "$tmp/scale" --feeds 10000 --hosts 500 --port "$port" --synthetic \
    --per-host 1 --concurrency 500 --min-interval 1000
  server_stats >/dev/null
  run_scifeed scale-s "$tmp/scale"
  read -r _ req _ _ _ peak < <(server_stats)
  echo "requests $req, peak per host $peak; politeness floor: 20 feeds x 1 s after robots.txt = about 20.1 s"
  stop_server
fi

# --- table -------------------------------------------------------------------------------------
say "results: median (min-max) of $runs runs; ratio = scifeed / rsspls"
printf '%-44s %7s %-15s %7s %-15s %6s\n' "work" "scifeed" "" "rsspls" "" "ratio" | tee "$tmp/table"
echo "(the two history rows compare scifeed with scifeed: 1,000,000 stored items vs 10,000)"
row "cold start, 1 feed: wall" cold-s cold-r 2 ms
row "cold start, 1 feed: peak RSS" cold-s cold-r 4 MiB
row "100 pages from disk: CPU" disk-s disk-r 3 s
row "100 pages loopback 0 ms: CPU" loop-s loop-r 3 s
row "100 pages loopback 0 ms: wall" loop-s loop-r 2 s
row "100 feeds all 304: CPU per run" same-s same-r 3 ms/10
row "100 feeds all 304: wall per run" same-s same-r 2 ms/10
row "20 hosts 200 ms, per_host 5: wall" lat5-s lat5-r 2 s
row "20 hosts 200 ms, per_host 5, robots cached" lat5w-s lat5-r 2 s
row "100 changed over 1M vs 10k items: CPU" hist-big hist-small 3 s
row "100 changed over 1M vs 10k items: wall" hist-big hist-small 2 s
row "100 changed over 1M vs 10k items: peak RSS" hist-big hist-small 4 MiB
read -r l1 l1n l1x < <(stat lat1-s 2)
awk -v m="$l1" -v a="$l1n" -v b="$l1x" 'BEGIN{printf "20 hosts 200 ms, per_host 1: wall %.2f s (%.2f-%.2f) = %.2fx the floor (robots + 5 rounds x 200 ms = 1.2 s)\n", m, a, b, m / 1.2}' | tee -a "$tmp/table"
if [ "$quick" != 1 ]; then
  read -r sw _ _ < <(stat scale-s 2)
  read -r sc _ _ < <(stat scale-s 3)
  read -r sr _ _ < <(stat scale-s 4)
  awk -v w="$sw" -v c="$sc" -v r="$sr" 'BEGIN{printf "scale 10,000 feeds / 500 hosts: wall %.1f s (%.2fx the 20.1 s floor), CPU %.1f s, peak RSS %.1f MiB\n", w, w / 20.1, c, r / 1024}' | tee -a "$tmp/table"
fi
if [ -n "${BENCH_RESULTS:-}" ]; then cp "$results" "$BENCH_RESULTS"; fi
