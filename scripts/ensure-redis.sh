#!/usr/bin/env bash
# Sourced by test.sh, demo.sh and bench.sh: installs what they need from
# Debian's packages when it is missing and we can (root, or passwordless sudo).

# apt_install PACKAGE...: installs with apt-get, or explains why it cannot.
apt_install() {
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo -n"; else
      echo "error: $* missing and we are not root; install it with apt-get (or set REDMUX_REDIS_SERVER)" >&2
      return 1
    fi
  fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq >&2
  $sudo apt-get install -y -qq "$@" >&2
}

# ensure_redis: redis-server on PATH (or REDMUX_REDIS_SERVER set to one).
ensure_redis() {
  if [ -n "${REDMUX_REDIS_SERVER:-}" ] && [ -x "$REDMUX_REDIS_SERVER" ]; then
    return 0
  fi
  if command -v redis-server >/dev/null 2>&1; then
    return 0
  fi
  echo "redis-server not found; installing it with apt-get..." >&2
  apt_install redis-server
  command -v redis-server >/dev/null 2>&1 || { echo "error: redis-server still missing after apt-get" >&2; return 1; }
}
