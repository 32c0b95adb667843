#!/usr/bin/env bash
# Makes sure redis-server is on PATH, installing Debian's package when it is
# missing and we can (root, or passwordless sudo). Sourced by test.sh and demo.sh.
ensure_redis() {
  if [ -n "${REDMUX_REDIS_SERVER:-}" ] && [ -x "$REDMUX_REDIS_SERVER" ]; then
    return 0
  fi
  if command -v redis-server >/dev/null 2>&1; then
    return 0
  fi
  echo "redis-server not found; installing it with apt-get..." >&2
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo -n"; else
      echo "error: redis-server is missing and we are not root; install it (apt-get install redis-server) or set REDMUX_REDIS_SERVER" >&2
      return 1
    fi
  fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq >&2
  $sudo apt-get install -y -qq redis-server >&2
  command -v redis-server >/dev/null 2>&1 || { echo "error: redis-server still missing after apt-get" >&2; return 1; }
}
