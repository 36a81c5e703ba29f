#!/usr/bin/env bash
# Screenshots of `scifeed serve` on the offline demo config for the README: the index and a
# feed page (desktop, phone, phone in dark mode), taken with headless Debian chromium.
# Writes docs/serve-index.png, docs/serve-feed.png, docs/serve-feed-phone-dark.png.
# The demo's images live on fictional hosts, so they show as grey boxes with their alt text.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v chromium >/dev/null || { echo "needs chromium (apt-get install chromium)" >&2; exit 1; }
cargo build -q
tmp=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$tmp"' EXIT
./target/debug/scifeed serve -c config/demo.toml --listen 127.0.0.1:0 --stop-after 60s \
  --output-dir "$tmp/feeds" --state "$tmp/state.db" -q >"$tmp/out" 2>"$tmp/err" &
pid=$!
# -q prints nothing; find the port from the process's listening socket.
for _ in $(seq 100); do
  port=$(ss -ltnpH 2>/dev/null | awk -v p="pid=$pid," '$0 ~ p {split($4, a, ":"); print a[length(a)]}' | head -1)
  [ -n "$port" ] && curl -sf "http://127.0.0.1:$port/health" | grep -q '"completed": [1-9]' && break
  sleep 0.1
done
[ -n "${port:-}" ] || { echo "serve did not start" >&2; cat "$tmp/err" >&2; exit 1; }
shot() { # name url size [extra...]
  local name=$1 url=$2 size=$3; shift 3
  chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
    --disable-component-update --disable-sync --no-first-run --hide-scrollbars \
    --user-data-dir="$tmp/profile" --window-size="$size" --screenshot="docs/$name" "$@" "$url" 2>/dev/null
  echo "docs/$name"
}
shot serve-index.png "http://127.0.0.1:$port/" 1000,760
shot serve-feed.png "http://127.0.0.1:$port/the-scientist-demo.html" 1000,1100
shot serve-feed-phone-dark.png "http://127.0.0.1:$port/lab-notes-demo.html" 390,844 --force-dark-mode
