#!/usr/bin/env bash
# `make test`: a private stack on its own ports (beside any `make up`), fresh data, the app on top, every test,
# then everything stopped again whatever happened. Exit status is the tests'.
set -uo pipefail
cd "$(dirname "$0")/.."

export CDCFLOW_STACK_DIR="${CDCFLOW_TEST_STACK_DIR:-$PWD/.stack/test}"
export CDCFLOW_PG_PORT="${CDCFLOW_TEST_PG_PORT:-25442}"
export CDCFLOW_KAFKA_PORT="${CDCFLOW_TEST_KAFKA_PORT:-29102}"
export CDCFLOW_KAFKA_CONTROLLER_PORT="${CDCFLOW_TEST_KAFKA_CONTROLLER_PORT:-29103}"
export CDCFLOW_CONNECT_PORT="${CDCFLOW_TEST_CONNECT_PORT:-28093}"
export CDCFLOW_MARIADB_PORT="${CDCFLOW_TEST_MARIADB_PORT:-23316}"
export CDCFLOW_API_PORT="${CDCFLOW_TEST_API_PORT:-8010}"
export CDCFLOW_WEB_PORT="${CDCFLOW_TEST_WEB_PORT:-3010}"
# The test stack runs a Connect cluster of two workers (ports CONNECT_PORT and CONNECT_PORT + 1).
export CDCFLOW_CONNECT_WORKERS="${CDCFLOW_TEST_CONNECT_WORKERS:-2}"
export CDCFLOW_ADMIN_PASSWORD="${CDCFLOW_TEST_ADMIN_PASSWORD:-test-admin-$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')}"

# Throwaway: stop everything, then remove the run's data (and its cluster under /var/lib/cdcflow-pg, if any).
# A failed run's logs are copied beside the stack first (.stack/test-failed-logs), for whoever looks into it next.
cleanup() {
  if [ "${status:-0}" -ne 0 ] && [ -d "$CDCFLOW_STACK_DIR/logs" ]; then
    rm -rf "$CDCFLOW_STACK_DIR-failed-logs" && cp -r "$CDCFLOW_STACK_DIR/logs" "$CDCFLOW_STACK_DIR-failed-logs" || true
  fi
  stack/stackctl reset >/dev/null 2>&1 || stack/stackctl down || true
}
trap cleanup EXIT INT TERM

started=$SECONDS
stack/stackctl reset >/dev/null 2>&1 || true
rm -rf "$CDCFLOW_STACK_DIR/secrets"  # fresh credentials every run
stack/stackctl up || exit 1
set -a; . "$CDCFLOW_STACK_DIR/env"; set +a
backend/.venv/bin/cdcflow migrate && backend/.venv/bin/cdcflow create-admin && backend/.venv/bin/cdcflow demo seed \
  || exit 1
stack/stackctl app-up || exit 1
echo "[test] stack ready in $((SECONDS - started))s"

status=0
(cd frontend && npx vitest run) || status=1
(cd frontend && npx playwright test) || status=1
# Backend last: its final test reads every log the run produced for leaked passwords.
(cd backend && .venv/bin/pytest) || status=1
if [ "$status" -ne 0 ]; then
  # The run's logs go with its throwaway stack: keep what explains a failure in the CI output.
  for name in api connect kafka; do
    log="$CDCFLOW_STACK_DIR/logs/$name.log"
    [ -f "$log" ] || continue
    echo "[test] --- last lines of $name.log ---"
    grep -v '"logger": "cdcflow.request"' "$log" | tail -n 40 | cut -c1-400
  done
  grep -h -A30 "Fatal Python error" "$CDCFLOW_STACK_DIR/logs/api.log" 2>/dev/null | head -60
fi
echo "[test] finished in $((SECONDS - started))s (exit $status)"
exit $status
