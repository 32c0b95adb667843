#!/usr/bin/env bash
# Side-by-side benchmark: redmux vs redis-rs vs fred, each on ONE shared
# connection, with redis-benchmark as floor/ceiling references.
#   scripts/bench.sh                    full run (~55 min): writes docs/BENCHMARKS.md and docs/img/*.png
#   scripts/bench.sh --quick            1 short round of a reduced matrix; prints tables, writes no docs
#   scripts/bench.sh --current-thread   the same on a current-thread runtime (its own section and charts)
#   scripts/bench.sh --cluster          against a throwaway 3-primary Redis Cluster: GET/SET 16 B at 1, 64 and
#                                       1,024 tasks, each client ONE shared cluster client; 1 round of 2 s per
#                                       cell (~1 min), prints the tables, writes no docs
#   scripts/bench.sh --cluster --rounds 3 --duration 3 --write-docs
#                                       the cluster run for the docs (~4 min): its section of docs/BENCHMARKS.md
# Any other option is passed to the binary (see benches/compare/src/main.rs),
# e.g. --workloads get16,set1k --tasks 1,64 --rounds 3 --duration 2.
# The binary starts its own redis-server on a free loopback port and never touches 6379
# (with --cluster: three cluster-enabled ones, set up over RESP, no redis-cli needed).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure-redis.sh
ensure_redis

# redis-benchmark gives the references (Debian ships it in redis-tools).
if ! command -v redis-benchmark >/dev/null 2>&1; then
  echo "redis-benchmark not found; installing redis-tools with apt-get..." >&2
  apt_install redis-tools
fi
# The charts are drawn in Rust by plotters with its pure-Rust ab_glyph text
# renderer (no fontconfig, no Python); it only needs a TTF file to load.
if [ -z "${REDMUX_BENCH_FONT:-}" ] && [ ! -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]; then
  echo "DejaVu Sans not found; installing fonts-dejavu-core for the charts..." >&2
  apt_install fonts-dejavu-core || echo "warning: no font; the charts will be skipped" >&2
fi

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
echo "building benches/compare (release) into $CARGO_TARGET_DIR..." >&2
# -j2: the benchmark machine has 2 cores shared with other work.
cargo build --release -j2 -q --manifest-path benches/compare/Cargo.toml --bin compare
exec "$CARGO_TARGET_DIR/release/compare" "$@"
