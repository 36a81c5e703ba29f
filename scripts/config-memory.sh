#!/usr/bin/env bash
# Peak memory and wall time of reading a big config: `scifeed check` on generated configs of
# FEEDS (10,000) feeds with the corpus selectors (tests/corpus/feeds.toml), written by
# benches/benchkit.rs: one file (about 3 MB), the main file including 50 site files, and one
# file per feed. Peak memory is GNU time's maximum resident set size.
#
#   scripts/config-memory.sh                  # release build, FEEDS=10000, RUNS=3 (median)
#   SCIFEED=/path/to/scifeed scripts/config-memory.sh   # measure another binary
#
# The goal of issue 10: under 40 MiB for 10,000 feeds, one file or includes.
set -euo pipefail
cd "$(dirname "$0")/.."
feeds=${FEEDS:-10000}
runs=${RUNS:-3}
if [ ! -x /usr/bin/time ]; then
  echo "skip: /usr/bin/time (GNU time) not found; apt-get install time"
  exit 0
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/scifeed-cfgmem.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

target=${CARGO_TARGET_DIR:-$PWD/target}
if [ -z "${SCIFEED:-}" ]; then
  cargo build --release --locked -q --bin scifeed
  SCIFEED=$target/release/scifeed
fi
kit=$(cargo build --release --locked -q --bench benchkit --message-format=json \
  | python3 -c 'import json,sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "benchkit" and m.get("executable"):
        print(m["executable"])')
[ -x "$kit" ] || { echo "cannot build the bench helper" >&2; exit 1; }

gen() { "$kit" configs --out "$tmp/$1" --feeds "$feeds" --hosts 50 --selectors tests/corpus/feeds.toml "${@:2}"; }
gen one
gen sites-50 --sites 50
gen sites-all --sites "$feeds"

# Median of RUNS: "peak_KiB wall_s".
measure() {
  for _ in $(seq "$runs"); do
    /usr/bin/time -f "%M %e" "$SCIFEED" -q check -c "$1" 2>&1 >/dev/null | tail -1
  done | sort -n | awk '{ a[NR] = $0 } END { print a[int((NR + 1) / 2)] }'
}

printf '%-34s %10s %9s %8s\n' "config ($feeds feeds)" "size" "peak" "wall"
for c in one sites-50 sites-all; do
  files=$(find "$tmp/$c" -name '*.toml' ! -name rsspls.toml)
  bytes=$(cat $files | wc -c)
  read -r kib wall < <(measure "$tmp/$c/scifeed.toml")
  awk -v c="$c ($(echo "$files" | wc -l) file(s))" -v b="$bytes" -v k="$kib" -v w="$wall" \
    'BEGIN { printf "%-34s %8.1f MB %6.1f MiB %7ss\n", c, b / 1e6, k / 1024, w }'
done
"$SCIFEED" --version
