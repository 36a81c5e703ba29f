#!/usr/bin/env bash
# Long fuzz runs: a documented script, not part of CI (see fuzz/README.md).
# Needs a nightly toolchain and cargo-fuzz:  rustup toolchain install nightly; cargo install cargo-fuzz
# Usage: fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]     default: 300 s for every target
set -euo pipefail
cd "$(dirname "$0")"
secs=${1:-300}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(extract date read_time config render)
mkdir -p logs
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t"
  inputs=("corpus/$t")
  [ -d "seeds/$t" ] && inputs+=("seeds/$t")
  case "$t" in
    extract) max_len=65536 ;;   # whole (small) pages
    config) max_len=16384 ;;
    *) max_len=4096 ;;
  esac
  echo "==> $t for ${secs}s"
  # -s none: the crate forbids unsafe code, and AddressSanitizer would halve the exec rate on
  # small machines; -a keeps debug assertions (overflow checks) on. libFuzzer still reports
  # panics, inputs slower than -timeout, and memory above -rss_limit_mb as crashes.
  cargo +nightly fuzz run -s none -a "$t" "${inputs[@]}" -- \
    -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len="$max_len" \
    -print_final_stats=1 >"logs/$t.log" 2>&1 || { echo "    $t FAILED: see fuzz/logs/$t.log and fuzz/artifacts/$t/"; exit 1; }
  grep -E "stat::number_of_executed_units|stat::peak_rss_mb|stat::new_units_added" "logs/$t.log" | sed 's/^/    /'
done
