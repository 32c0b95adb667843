#!/usr/bin/env bash
# The test command: installs what the tests need, then format, lint, and the
# whole suite (unit, integration against real redis-server processes, doc tests).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure-redis.sh
ensure_redis
# The TLS tests expect the operating system's trust store to exist (and not
# to hold their test CA): rustls-native-certs reads it for rediss:// without
# sslCaCert.
if [ ! -s /etc/ssl/certs/ca-certificates.crt ]; then
  echo "system CA certificates missing; installing ca-certificates..." >&2
  apt_install ca-certificates
fi
# `--version` does not say whether TLS was built in (Debian's build has it);
# tests/support starts a TLS server and fails with that explanation if not.
echo "== redis-server: $(redis-server --version)"
echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --all-targets -- -D warnings
echo "== cargo clippy --no-default-features (the build without TLS)"
cargo clippy --no-default-features --all-targets -- -D warnings
echo "== cargo test"
cargo test --all-targets
echo "== cargo test --no-default-features --test transports (TLS off: Unix sockets, the feature-off error)"
cargo test --no-default-features --test transports
cargo test --doc
