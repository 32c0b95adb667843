#!/usr/bin/env bash
# The demo: many tasks sharing one connection.
#   scripts/demo.sh                 starts a throwaway redis-server (installing it with apt when missing)
#   scripts/demo.sh HOST:PORT [S]   uses your server; S = seconds per step (default 3)
set -euo pipefail
cd "$(dirname "$0")/.."
address="${1:-}"
seconds="${2:-3}"
server_pid=""
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; [ -n "${tmp:-}" ] && rm -rf "$tmp"; true; }
trap cleanup EXIT
if [ -z "$address" ]; then
  source scripts/ensure-redis.sh
  ensure_redis
  # A free port: nothing answers on it (bash's /dev/tcp, no other tools needed).
  port=""
  for _ in $(seq 50); do
    candidate=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then port=$candidate; break; fi
  done
  [ -n "$port" ] || { echo "error: found no free port" >&2; exit 1; }
  tmp=$(mktemp -d)
  redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$tmp" >/dev/null &
  server_pid=$!
  for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null && break; sleep 0.05; done
  address="127.0.0.1:$port"
  echo "started a throwaway redis-server on $address ($(redis-server --version | cut -d' ' -f3))"
fi
echo "building the demo (release)..."
cargo build --release --example demo -q
exec_status=0
./target/release/examples/demo "$address" "$seconds" || exec_status=$?
exit $exec_status
