#!/usr/bin/env bash
# Peak memory and wall time of `scifeed run` (release build) on large and hostile pages, with
# `max_body_bytes` raised to 64 MiB so the parser sees them. Not part of CI; the figures go
# into change notes. Needs Python 3 and /usr/bin/time (GNU time).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -q
bin="${CARGO_TARGET_DIR:-target}/release/scifeed"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python3 - "$work" <<'PY'
import os, sys
d = sys.argv[1]
card = ('<article><h3><a href="/a/{n}">Story {n} about cells, genes and mice</a></h3>'
        '<p class="teaser">A teaser of story {n}, about as long as the ones real listing pages show.</p>'
        '<span class="by">By Ann Lee | 4 min read</span><time datetime="2026-11-20T10:00:00Z">Nov 20</time></article>\n')
def page(name, body):
    with open(os.path.join(d, name), 'w') as f:
        f.write('<!doctype html><html><body>' + body + '</body></html>')
parts, size, n = [], 0, 0
while size < 50 * 1024 * 1024:
    c = card.format(n=n); parts.append(c); size += len(c); n += 1
page('cards-50MiB.html', ''.join(parts))
page('cards-100k.html', ''.join(card.format(n=i) for i in range(100_000)))
page('text-50MiB.html', card.format(n=0) + '<p>' + 'lorem ipsum ' * (50 * 1024 * 1024 // 12) + '</p>')
page('nested-100k.html', card.format(n=0) + '<div>' * 100_000 + '</div>' * 100_000)
page('reopen-bomb.html', card.format(n=0) + ''.join(f'<p><b id=b{i}>x</p>' for i in range(20_000)))
PY

printf '%-18s %8s %10s  %s\n' page seconds "peak RSS" outcome
for page in cards-50MiB cards-100k text-50MiB nested-100k reopen-bomb; do
  cat >"$work/$page.toml" <<TOML
[settings]
output_dir = "out-$page"
state = "$page.db"
max_body_bytes = 67108864
[[feed]]
id = "m"
title = "M"
url = "$page.html"
base_url = "https://www.example.org/"
[feed.select]
card = "article"
title = "h3"
teaser = "p"
author = ".by"
read_time = ".by"
date = "time@datetime"
TOML
  set +e
  /usr/bin/time -f '%e %M' -o "$work/time.txt" "$bin" -q run -c "$work/$page.toml" >"$work/out.txt" 2>&1
  code=$?
  set -e
  read -r secs kb < <(tail -n 1 "$work/time.txt")
  outcome=$(if [ "$code" -eq 0 ]; then echo "ok"; else grep -m1 -o 'page [^;]*\|body larger[^(]*\|matched nothing' "$work/out.txt" || echo "exit $code"; fi)
  printf '%-18s %8s %7d MiB  %s\n' "$page" "$secs" $((kb / 1024)) "$outcome"
done
