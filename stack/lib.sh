# Shared shell helpers for stack/stackctl: settings, pid-file process control, readiness waits.
# Sourced, never executed. Everything lives under $STACK_DIR (default: <repo>/.stack).

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STACK_DIR="${CDCFLOW_STACK_DIR:-$REPO_DIR/.stack}"
JARS_DIR="${CDCFLOW_JARS_DIR:-$REPO_DIR/.stack/jars}"

PG_PORT="${CDCFLOW_PG_PORT:-25432}"
KAFKA_PORT="${CDCFLOW_KAFKA_PORT:-29092}"
KAFKA_CONTROLLER_PORT="${CDCFLOW_KAFKA_CONTROLLER_PORT:-$((KAFKA_PORT + 1))}"
CONNECT_PORT="${CDCFLOW_CONNECT_PORT:-28083}"
# Kafka Connect workers in the one group: worker i (0-based) serves REST on CONNECT_PORT + i.
CONNECT_WORKERS="${CDCFLOW_CONNECT_WORKERS:-1}"
[[ "$CONNECT_WORKERS" =~ ^[1-9][0-9]*$ ]] || { printf '[stack] ERROR: CDCFLOW_CONNECT_WORKERS must be 1 or more\n' >&2; exit 1; }
MARIADB_PORT="${CDCFLOW_MARIADB_PORT:-23306}"
API_PORT="${CDCFLOW_API_PORT:-8000}"
WEB_PORT="${CDCFLOW_WEB_PORT:-3000}"
HOST=127.0.0.1

# Heaps sized for a 2-core / 24 GiB machine: the broker and the worker share it with PostgreSQL and the app.
KAFKA_HEAP_OPTS="${CDCFLOW_KAFKA_HEAP:--Xms256m -Xmx512m}"
# Several workers on one machine get a smaller heap each (a Debezium task needs far less than 768 MB).
if [ "$CONNECT_WORKERS" -gt 1 ]; then CONNECT_HEAP_DEFAULT="-Xms256m -Xmx768m"; else CONNECT_HEAP_DEFAULT="-Xms256m -Xmx1g"; fi
CONNECT_HEAP_OPTS="${CDCFLOW_CONNECT_HEAP:-$CONNECT_HEAP_DEFAULT}"
READY_TIMEOUT="${CDCFLOW_READY_TIMEOUT:-300}"  # a busy 2-core machine has taken >120 s to scan Connect plugins

RUN_DIR="$STACK_DIR/run"
LOG_DIR="$STACK_DIR/logs"
SECRETS_DIR="$STACK_DIR/secrets"

log() { printf '[stack] %s\n' "$*" >&2; }
die() { printf '[stack] ERROR: %s\n' "$*" >&2; exit 1; }

pg_bin() {
  local dir
  for dir in /usr/lib/postgresql/15/bin /usr/lib/postgresql/*/bin; do
    [ -x "$dir/$1" ] && { echo "$dir/$1"; return 0; }
  done
  command -v "$1" || return 1
}

# A secret (default 24 characters) generated once per stack directory and kept (mode 600) so restarts keep the same credentials.
secret() {
  local name="$1" length="${2:-24}" file="$SECRETS_DIR/$1"
  mkdir -p "$SECRETS_DIR" && chmod 700 "$SECRETS_DIR"
  if [ ! -s "$file" ]; then
    (umask 077; head -c 96 /dev/urandom | base64 -w0 | tr -dc 'A-Za-z0-9' | head -c "$length" >"$file")
  fi
  cat "$file"
}

port_open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

# port_taken PORT: still open after up to 5 s. A daemon of ours that was just killed has a stale pid file at once but
# may hold its listening socket a moment longer while it exits; that is not "another process".
port_taken() {
  local i
  for i in $(seq 25); do port_open "$1" || return 1; sleep 0.2; done
  return 0
}

# What each daemon's command line matches (an extended regexp): a pid file pointing at a live process that does not
# match (the pid was reused after a kill -9 or a reboot) is stale. Next.js renames its process to next-server.
daemon_signature() {
  case "$1" in
    kafka) echo 'kafka\.Kafka' ;;
    mariadb) echo 'mariadbd' ;;
    connect|connect-*) echo 'ConnectDistributed' ;;
    api) echo 'cdcflow serve' ;;
    web) echo 'next-server|next start' ;;
    *) echo "" ;;
  esac
}

# pid_alive NAME: the daemon NAME of this stack directory runs. A pid file whose process is gone, or is not ours
# (another stack directory, another program), is stale and removed here, so nobody reads a dead pid again.
pid_alive() {
  local pidfile="$RUN_DIR/$1.pid" pid sig
  [ -e "$pidfile" ] || return 1
  pid="$(cat "$pidfile" 2>/dev/null)"
  sig="$(daemon_signature "$1")"
  if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null &&
      # Only a process we started: start_daemon marks each one with CDCFLOW_STACK_DIR set to this stack directory.
      # 2>/dev/null first: a process that ends between kill -0 and here fails the redirection itself, which bash
      # reports on stderr before any later 2>/dev/null applies ("/proc/944/environ: No such process").
      tr '\0' '\n' 2>/dev/null <"/proc/$pid/environ" | grep -qxF "CDCFLOW_STACK_DIR=$STACK_DIR" &&
      { [ -z "$sig" ] || tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qE "$sig"; }; then
    return 0
  fi
  log "removing stale pid file of $1 (pid ${pid:-?} is gone or not ours)"
  rm -f "$pidfile"
  return 1
}

# private_logs: logs name hosts, users, tables and statements: mode 700/600 like the secrets, never world-readable.
# chmod follows the postgres.log symlink to PostgreSQL's own log.
private_logs() {
  mkdir -p "$LOG_DIR" && chmod 700 "$LOG_DIR"
  local f
  for f in "$LOG_DIR"/*; do [ -e "$f" ] && chmod 600 "$f"; done
  return 0
}

# daemon_crashed NAME: it was started (a pid file exists) but no longer runs.
daemon_crashed() { [ -e "$RUN_DIR/$1.pid" ] && ! pid_alive "$1"; }

# start_daemon NAME LOGFILE CMD... : run CMD in its own session; the pid file holds CMD's own pid (exec). The pid
# file is written atomically by the new process, and any stale one is gone before it starts: a waiter never reads
# the pid of the process that died.
start_daemon() {
  local name="$1" logfile="$2"; shift 2
  mkdir -p "$RUN_DIR"
  private_logs
  if pid_alive "$name"; then log "$name already running (pid $(cat "$RUN_DIR/$name.pid"))"; return 0; fi
  rm -f "$RUN_DIR/$name.pid" "$RUN_DIR/$name.pid.tmp"
  # umask 077: the log file and whatever the daemon writes (its own logs, data) are the stack owner's only.
  (umask 077; CDCFLOW_STACK_DIR="$STACK_DIR" setsid nohup bash -c 'echo $$ >"$0.tmp" && mv -f "$0.tmp" "$0"; exec "$@"' \
    "$RUN_DIR/$name.pid" "$@" >>"$logfile" 2>&1 </dev/null &)
  local i
  for i in $(seq 100); do [ -s "$RUN_DIR/$name.pid" ] && return 0; sleep 0.1; done
  die "$name did not start (no pid file after 10 s); see $logfile"
}

# stop_daemon NAME [SECONDS]: TERM, wait, then KILL; silent when nothing runs. Safe to call twice.
stop_daemon() {
  local name="$1" grace="${2:-30}" pidfile="$RUN_DIR/$1.pid" pid i
  if ! pid_alive "$name"; then return 0; fi
  pid="$(cat "$pidfile")"
  log "stopping $name (pid $pid)"
  # The daemon leads its own process group (setsid): signal the group so its children end with it.
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq $((grace * 5))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then
    log "$name did not stop in ${grace}s, killing"; kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}

# wait_for NAME LOGFILE CHECK...: poll CHECK until it succeeds; on timeout print the log's tail and fail.
wait_for() {
  local name="$1" logfile="$2"; shift 2
  local deadline=$((SECONDS + READY_TIMEOUT))
  until "$@" >/dev/null 2>&1; do
    if [ -n "${WAIT_PID_NAME:-}" ] && ! pid_alive "$WAIT_PID_NAME"; then
      log "$name exited during start-up; last lines of $logfile:"; tail -n 40 "$logfile" >&2; return 1
    fi
    if [ $SECONDS -ge $deadline ]; then
      log "$name not ready after ${READY_TIMEOUT}s; last lines of $logfile:"; tail -n 40 "$logfile" >&2; return 1
    fi
    sleep 1
  done
  log "$name ready"
}
