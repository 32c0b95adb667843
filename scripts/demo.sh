#!/usr/bin/env bash
# The demo: many tasks sharing one connection.
#   scripts/demo.sh                 starts a throwaway redis-server (installing it with apt when missing)
#   scripts/demo.sh HOST:PORT [S]   uses your server; S = seconds per step (default 3)
# The examples, each against a throwaway redis-server:
#   scripts/demo.sh --web [S] [C]   the axum web_cache service under a load of C keep-alive
#                                   clients for S seconds (default 10 s, 64 clients)
#   scripts/demo.sh --queue [N]     the work queue: N items (default 100,000), a consumer killed mid-run
#   scripts/demo.sh --chat          pub/sub: three chat bots
set -euo pipefail
cd "$(dirname "$0")/.."
mode=demo
case "${1:-}" in
  --web) mode=web; web_seconds="${2:-10}"; web_clients="${3:-64}"; set -- ;;
  --queue) mode=queue; queue_items="${2:-100000}"; set -- ;;
  --chat) mode=chat; set -- ;;
esac
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
exec_status=0
case "$mode" in
  web)
    echo "building the web_cache example (release)..."
    cargo build --release --example web_cache -q
    ./target/release/examples/web_cache "$address" --load "$web_seconds" "$web_clients" || exec_status=$? ;;
  queue)
    echo "building the work_queue example (release)..."
    cargo build --release --example work_queue -q
    ./target/release/examples/work_queue "$address" "$queue_items" || exec_status=$? ;;
  chat)
    echo "building the chat example (release)..."
    cargo build --release --example chat -q
    ./target/release/examples/chat "$address" --bots || exec_status=$? ;;
  *)
    echo "building the demo (release)..."
    cargo build --release --example demo -q
    ./target/release/examples/demo "$address" "$seconds" || exec_status=$? ;;
esac
exit $exec_status
