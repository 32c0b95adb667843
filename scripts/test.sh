#!/usr/bin/env bash
# The test command: installs what the tests need, then format, lint, and the
# whole suite (unit, integration against real redis-server processes, doc tests).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure-redis.sh
ensure_redis
echo "== redis-server: $(redis-server --version)"
echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --all-targets -- -D warnings
echo "== cargo test"
cargo test --all-targets
cargo test --doc
