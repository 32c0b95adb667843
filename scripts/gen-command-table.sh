#!/usr/bin/env bash
# Regenerates the command table from the redis-server on PATH (or
# $REDMUX_REDIS_SERVER): src/table/commands.json, the server's own COMMAND INFO
# and COMMAND DOCS, and src/table/generated.rs, the static table built from it.
# The generator is the test committed_table_matches_the_server in
# tests/command_table.rs, run with REDMUX_REGENERATE=1; the whole command_table
# suite then runs normally to check what was written. Review the diff and
# commit both files. See docs/COMMAND_TABLE.md.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure-redis.sh
ensure_redis
echo "== regenerating from $(${REDMUX_REDIS_SERVER:-redis-server} --version)"
REDMUX_REGENERATE=1 CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-1}" \
  cargo test --test command_table -- --exact committed_table_matches_the_server
echo "== checking what was written"
CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-1}" cargo test --test command_table
git --no-pager diff --stat -- src/table/commands.json src/table/generated.rs
