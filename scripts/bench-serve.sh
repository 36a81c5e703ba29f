#!/usr/bin/env bash
# Load benchmark of `scifeed serve` (a script, not a timed test), on loopback only.
#
# 1. Throughput: wrk with 1,000 concurrent connections against `serve` and against nginx
#    serving the same feed file (the RSS file serve itself writes), runs interleaved
#    (serve, nginx, serve, ...), while serve's crawl rounds run: 2,000 feeds on 20 loopback
#    hosts with 100-200 ms latency, whose pages gain an item every few seconds, so a round is
#    in progress most of the time (sampled from /health during every run, for both servers).
#    Prints requests/s, errors and latency per run, medians, and the ratio serve / nginx
#    (target >= 0.8, 0 errors).
# 2. Memory: serve with 10,000 feeds (500 hosts) after their first round, every feed asked
#    for in every format and as a page, identity and compressed; peak RSS (VmHWM) of the
#    process over its whole life (target < 200 MiB).
#
#   scripts/bench-serve.sh              # RUNS=3 interleaved pairs of DURATION=20 s each
#   RUNS=5 DURATION=30 scripts/bench-serve.sh
#   QUICK=1 scripts/bench-serve.sh      # 2 pairs of 10 s, 2,000 feeds for the memory part
#   PARTS=2 scripts/bench-serve.sh      # only the memory part (PARTS="1 2" by default)
#   CACHE_MB=32 PARTS=2 scripts/bench-serve.sh   # the memory part with another cache_mb
#
# Installs Debian's wrk and nginx with apt-get when they are missing (as root, or with sudo).
# The script stops itself after BENCH_DEADLINE seconds (default 1200), and so do the servers.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
runs=${RUNS:-3}
dur=${DURATION:-20}
conns=${CONNECTIONS:-1000}
mem_feeds=${MEM_FEEDS:-10000}
if [ "${QUICK:-0}" = 1 ]; then runs=${RUNS:-2}; dur=${DURATION:-10}; mem_feeds=${MEM_FEEDS:-2000}; fi
deadline=${BENCH_DEADLINE:-1200}
parts=" ${PARTS:-1 2} "

tmp=$(mktemp -d "${TMPDIR:-/tmp}/scifeed-serve-bench.XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'echo "bench-serve: deadline of ${deadline}s reached, stopping" >&2; exit 3' TERM
(sleep "$deadline" && kill -TERM $$) 2>/dev/null &
pids+=($!)
say() { printf '\n== %s\n' "$*"; }

# --- tools ---------------------------------------------------------------------------------
need=()
command -v wrk >/dev/null || need+=(wrk)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx)
if [ ${#need[@]} -gt 0 ]; then
  say "installing ${need[*]} from Debian"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
echo "open files: $(ulimit -n); cores: $(nproc); wrk: $(wrk --version 2>&1 | head -1 | cut -c1-40); nginx: $("$nginx_bin" -v 2>&1)"

target=${CARGO_TARGET_DIR:-$repo/target}
say "building scifeed (release) and the bench helper"
cargo build --release --locked -q --bin scifeed
scifeed=$target/release/scifeed
kit=$(cargo build --release --locked -q --bench benchkit --message-format=json \
  | python3 -c 'import json,sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "benchkit" and m.get("executable"):
        print(m["executable"])')
[ -x "$kit" ] || { echo "cannot build the bench helper" >&2; exit 1; }

# --- helpers -------------------------------------------------------------------------------
page_server() { # dir hosts latency -> prints port
  local dir=$1 hosts=$2 latency=$3
  mkdir -p "$dir"
  "$kit" serve --hosts "$hosts" --latency "$latency" --port-file "$dir/port" --deadline-secs "$deadline" >/dev/null 2>&1 &
  pids+=($!)
  for _ in $(seq 200); do [ -s "$dir/port" ] && break; sleep 0.05; done
  cat "$dir/port"
}
start_serve() { # config every log -> sets serve_pid, serve_url
  local cfg=$1 every=$2 log=$3
  "$scifeed" serve -c "$cfg" --listen 127.0.0.1:0 --every "$every" --stop-after "${deadline}s" >"$log" 2>"$log.err" &
  serve_pid=$!
  pids+=("$serve_pid")
  serve_url=
  for _ in $(seq 600); do
    serve_url=$(sed -n 's/^scifeed serve: \(http[^ ]*\).*/\1/p' "$log" | head -1)
    [ -n "$serve_url" ] && return 0
    sleep 0.05
  done
  echo "serve did not start:" >&2; cat "$log.err" >&2; exit 1
}
rounds_done() { curl -sf "${serve_url}health" | python3 -c 'import json,sys; print(json.load(sys.stdin)["round"]["completed"])'; }
wait_round() { # n timeout
  local n=$1 limit=$2 t=0
  until [ "$(rounds_done 2>/dev/null || echo 0)" -ge "$n" ]; do
    sleep 1; t=$((t + 1))
    [ "$t" -lt "$limit" ] || { echo "no round $n after ${limit}s" >&2; tail "$serve_log.err" >&2; exit 1; }
  done
}
peak_rss_mib() { awk '/VmHWM/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }
rss_mib() { awk '/VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }
median() { sort -n | awk '{a[NR]=$1} END {if (NR % 2) print a[(NR+1)/2]; else printf "%.1f\n", (a[NR/2]+a[NR/2+1])/2}'; }

# --- 1. throughput against nginx -----------------------------------------------------------
if [[ $parts == *" 1 "* ]]; then
say "1. throughput: $conns connections, ${dur}s per run, $runs interleaved pairs, crawl rounds running"
port=$(page_server "$tmp/pages" 20 100-200)
"$kit" configs --out "$tmp/a" --feeds 2000 --hosts 20 --synthetic --port "$port" --per-host 1 --min-interval 0 --concurrency 16
serve_log=$tmp/a/serve.log
start_serve "$tmp/a/scifeed.toml" 5s "$serve_log"
wait_round 1 300
feed_file=$tmp/a/out-scifeed/f0.rss
echo "serve: $serve_url (pid $serve_pid); feed: f0.rss, $(wc -c <"$feed_file") bytes"
# New items every 3 s keep the feeds' intervals at `every`, so rounds keep coming.
( n=0; while sleep 3; do n=$((n + 1)); "$kit" salt --port "$port" --salt "s$n" >/dev/null 2>&1 || true; done ) &
pids+=($!)

nport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$tmp/nginx"
user_line=""
[ "$(id -u)" -eq 0 ] && user_line="user root;"
cat >"$tmp/nginx/nginx.conf" <<EOF
$user_line
worker_processes auto;
error_log $tmp/nginx/error.log warn;
pid $tmp/nginx/nginx.pid;
events { worker_connections 8192; }
http {
  access_log off;
  types { application/rss+xml rss; }
  default_type application/octet-stream;
  sendfile on;
  tcp_nopush on;
  keepalive_timeout 65;
  keepalive_requests 1000000;
  open_file_cache max=64 inactive=10s;
  open_file_cache_valid 1s;
  server {
    listen 127.0.0.1:$nport backlog=4096;
    root $tmp/a/out-scifeed;
  }
}
EOF
"$nginx_bin" -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" -g 'daemon off;' &
pids+=($!)
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$nport/f0.rss" -o /dev/null && break; sleep 0.05; done
cmp <(curl -s "${serve_url}f0.rss") <(curl -s "http://127.0.0.1:$nport/f0.rss") >/dev/null \
  && echo "nginx: http://127.0.0.1:$nport/ serves the same bytes" \
  || echo "nginx: http://127.0.0.1:$nport/ (file changed between the two reads)"

# CPU ticks (1/100 s) of serve's HTTP threads, or of every nginx process.
http_ticks() { # name
  if [ "$1" = serve ]; then
    for t in /proc/"$serve_pid"/task/*; do
      if grep -q '^scifeed-http' "$t/comm" 2>/dev/null; then awk '{print $14 + $15}' "$t/stat"; fi
    done | awk '{s += $1} END {print s + 0}'
  else
    for p in $(pgrep -x nginx || true); do awk '{print $14 + $15}' "/proc/$p/stat" || true; done | awk '{s += $1} END {print s + 0}'
  fi
}
one_run() { # name url -> appends "name rps errors p50 p99 round_share us_per_request" to results
  local name=$1 url=$2
  local out=$tmp/wrk-$name-$3.txt
  touch "$tmp/sampling"
  ( running=0; total=0
    while [ -e "$tmp/sampling" ]; do
      r=$(curl -sf --max-time 1 "${serve_url}health" | python3 -c 'import json,sys; print(int(json.load(sys.stdin)["round"]["running"]))' 2>/dev/null || echo 0)
      running=$((running + r)); total=$((total + 1)); sleep 0.25
    done
    echo "$running $total" >"$tmp/share-$name-$3" ) &
  local sampler=$!
  local t0; t0=$(http_ticks "$name")
  wrk -t2 -c"$conns" -d"${dur}s" --timeout 10s --latency "$url" >"$out" 2>&1 || true
  local t1; t1=$(http_ticks "$name")
  rm -f "$tmp/sampling"; wait "$sampler" 2>/dev/null || true
  python3 - "$out" "$name" "$tmp/share-$name-$3" "$((t1 - t0))" >>"$tmp/results" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
def lat(p):
    m = re.search(r"^\s*%s%%\s+([\d.]+)(us|ms|s)" % p, text, re.M)
    if not m: return float("nan")
    v, u = float(m.group(1)), m.group(2)
    return v / 1000 if u == "us" else v * 1000 if u == "s" else v
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
errs = sum(int(x) for x in re.findall(r"(?:connect|read|write|timeout) (\d+)", text))
m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
errs += int(m.group(1)) if m else 0
run, total = map(int, open(sys.argv[3]).read().split())
n = int(re.search(r"(\d+) requests in", text).group(1))
us = int(sys.argv[4]) * 10000 / max(n, 1)
print(f"{sys.argv[2]} {rps:.0f} {errs} {lat(50):.2f} {lat(99):.2f} {100 * run / max(total, 1):.0f} {us:.2f}")
PY
  tail -1 "$tmp/results" | awk '{printf "  %-6s %8s req/s  errors %s  p50 %s ms  p99 %s ms  round running %s%% of the run  server CPU %s us/request\n", $1, $2, $3, $4, $5, $6, $7}'
}
: >"$tmp/results"
for i in $(seq "$runs"); do
  one_run serve "${serve_url}f0.rss" "$i"
  sleep 2
  one_run nginx "http://127.0.0.1:$nport/f0.rss" "$i"
  sleep 2
done
serve_peak_a=$(peak_rss_mib "$serve_pid")
rounds_a=$(rounds_done)
s_rps=$(awk '$1 == "serve" {print $2}' "$tmp/results" | median)
n_rps=$(awk '$1 == "nginx" {print $2}' "$tmp/results" | median)
s_err=$(awk '$1 == "serve" {s += $3} END {print s + 0}' "$tmp/results")
n_err=$(awk '$1 == "nginx" {s += $3} END {print s + 0}' "$tmp/results")
s_p50=$(awk '$1 == "serve" {print $4}' "$tmp/results" | median)
s_p99=$(awk '$1 == "serve" {print $5}' "$tmp/results" | median)
n_p50=$(awk '$1 == "nginx" {print $4}' "$tmp/results" | median)
n_p99=$(awk '$1 == "nginx" {print $5}' "$tmp/results" | median)
ratio=$(python3 -c "print(f'{$s_rps / $n_rps:.2f}')")
echo
echo "medians of $runs runs, $conns connections, ${dur}s each:"
printf '  serve  %8s req/s  p50 %s ms  p99 %s ms  errors %s (all runs)\n' "$s_rps" "$s_p50" "$s_p99" "$s_err"
printf '  nginx  %8s req/s  p50 %s ms  p99 %s ms  errors %s (all runs)\n' "$n_rps" "$n_p50" "$n_p99" "$n_err"
echo "  ratio serve / nginx: $ratio (target >= 0.8); serve completed $rounds_a rounds, peak RSS $serve_peak_a MiB"
kill "$serve_pid" 2>/dev/null || true
wait "$serve_pid" 2>/dev/null || true
fi

# --- 2. memory with many feeds ---------------------------------------------------------------
if [[ $parts == *" 2 "* ]]; then
say "2. memory: $mem_feeds feeds on 500 hosts, every document asked for after the first round"
port2=$(page_server "$tmp/pages2" 500 5-20)
"$kit" configs --out "$tmp/b" --feeds "$mem_feeds" --hosts 500 --synthetic --port "$port2" --per-host 1 --min-interval 0 --concurrency 16
# CACHE_MB=N: another budget for rendered documents than the default.
[ -n "${CACHE_MB:-}" ] && printf '\n[serve]\ncache_mb = %s\n' "$CACHE_MB" >>"$tmp/b/scifeed.toml"
serve_log=$tmp/b/serve.log
t0=$(date +%s)
start_serve "$tmp/b/scifeed.toml" 1h "$serve_log"
wait_round 1 900
echo "first round of $mem_feeds feeds: $(( $(date +%s) - t0 ))s; RSS now $(rss_mib "$serve_pid") MiB, peak so far $(peak_rss_mib "$serve_pid") MiB"
cat >"$tmp/all.lua" <<EOF
local n = 0
local docs = { "rss", "atom", "json", "html" }
request = function()
  n = n + 1
  local i = n % $mem_feeds
  local d = docs[(math.floor(n / $mem_feeds) % 4) + 1]
  local h = {}
  if math.floor(n / (4 * $mem_feeds)) % 2 == 1 then h["Accept-Encoding"] = "gzip, br" end
  return wrk.format("GET", "/f" .. i .. "." .. d, h)
end
EOF
wrk -t2 -c100 -d"$((dur * 2))s" --timeout 10s -s "$tmp/all.lua" "$serve_url" >"$tmp/wrk-mem.txt" 2>&1 || true
grep -E "Requests/sec|requests in|Non-2xx|Socket errors" "$tmp/wrk-mem.txt" | sed 's/^/  /'
cache=$(curl -sf "${serve_url}metrics" | awk '$1 == "scifeed_cache_bytes" {printf "%.1f", $2 / 1048576}')
peak=$(peak_rss_mib "$serve_pid")
echo "  document cache: $cache MiB; RSS now $(rss_mib "$serve_pid") MiB"
echo "  peak RSS of serve with $mem_feeds feeds: $peak MiB (target < 200 MiB)"
fi
