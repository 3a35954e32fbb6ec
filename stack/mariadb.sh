# MariaDB for stack/stackctl: a private server (never the packaged service) with its data under $STACK_DIR/mariadb,
# configured the way Debezium's MariaDB connector needs a source: binlog on, ROW format, FULL row image, a server id,
# MariaDB's own GTIDs. Sourced by stackctl after lib.sh, never executed.
#
# Accounts (passwords are generated secrets, sent to the server on stdin, never on a command line):
#   root@localhost          unix socket only (skip-name-resolve: a TCP client never matches 'localhost'); stackctl
#   cdcflow@127.0.0.1       admin-ish (ALL ... WITH GRANT OPTION): `cdcflow demo seed` and the tests
#   cdcflow_demo_source     Debezium's documented set on *.* plus everything on the demo database `shop`
#   cdcflow_demo_target     everything on `demo_target` (the JDBC sink creates and writes the tables), nothing else

MDB_HOME="$STACK_DIR/mariadb"
MDB_DATA="$MDB_HOME/data"
MDB_SOCK="$MDB_HOME/mariadb.sock"
MDB_LOG="$LOG_DIR/mariadb.log"
MDB_ROOT_CNF="$MDB_HOME/root.cnf"
MDB_DEMO_SOURCE_USER=cdcflow_demo_source
MDB_DEMO_TARGET_USER=cdcflow_demo_target
MDB_DEMO_SOURCE_DB=shop
MDB_DEMO_TARGET_DB=demo_target

mdb_bin() { command -v "$1" || { [ -x "/usr/sbin/$1" ] && echo "/usr/sbin/$1"; } || return 1; }

# Options of the client run as root over the socket; the password (once set) only in this mode-600 file.
mdb_root_cnf() {
  (umask 077; printf '[client]\nuser=root\nsocket=%s\n%s' "$MDB_SOCK" \
    "$([ -f "$MDB_HOME/.root_password_set" ] && printf 'password=%s\n' "$(secret mariadb_root_password)")" \
    >"$MDB_ROOT_CNF")
}

mdb_root() { "$(mdb_bin mariadb)" --defaults-file="$MDB_ROOT_CNF" --batch --skip-column-names "$@"; }

mdb_init() {
  [ -d "$MDB_DATA/mysql" ] && return 0
  local install_db
  install_db="$(mdb_bin mariadb-install-db)" \
    || die "MariaDB server not found (Debian: mariadb-server); run 'make install'"
  mkdir -p "$MDB_HOME" "$LOG_DIR"
  rm -f "$MDB_HOME/.root_password_set"
  log "mariadb-install-db $MDB_DATA"
  "$install_db" --no-defaults --datadir="$MDB_DATA" --auth-root-authentication-method=normal --user="$(whoami)" \
    --skip-test-db >>"$MDB_LOG" 2>&1 || { tail -n 20 "$MDB_LOG" >&2; die "mariadb-install-db failed"; }
}

mdb_ready() { mdb_root -e 'SELECT 1' | grep -q 1; }

mdb_up() {
  mdb_init
  mkdir -p "$MDB_HOME/tmp"
  mdb_root_cnf
  if ! pid_alive mariadb; then
    port_taken "$MARIADB_PORT" \
      && die "port $MARIADB_PORT (MariaDB) is taken by another process; set CDCFLOW_MARIADB_PORT"
    log "starting MariaDB on $HOST:$MARIADB_PORT"
    local as_user=()
    [ "$(id -u)" -eq 0 ] && as_user=(--user=root)
    # Binlog as Debezium needs it (ROW, FULL image, server id; GTIDs are MariaDB's default). UTC server time zone so
    # DATETIME/TIMESTAMP read back the same everywhere; utf8mb4 for any text. Retention: 7 days of binlog, so a
    # paused pipeline can resume. Disposable local data: durability traded for speed (never on a real source).
    start_daemon mariadb "$MDB_LOG" "$(mdb_bin mariadbd)" --no-defaults "${as_user[@]}" \
      --datadir="$MDB_DATA" --socket="$MDB_SOCK" --port="$MARIADB_PORT" --bind-address="$HOST" \
      --pid-file="$MDB_HOME/mariadbd.pid" --tmpdir="$MDB_HOME/tmp" --skip-name-resolve \
      --log-bin="$MDB_DATA/binlog" --server-id=1 --binlog-format=ROW --binlog-row-image=FULL \
      --binlog-expire-logs-seconds=604800 --max-connections=200 \
      --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci --default-time-zone=+00:00 \
      --innodb-buffer-pool-size=256M --innodb-log-file-size=128M --innodb-flush-log-at-trx-commit=2 --sync-binlog=0
  fi
  WAIT_PID_NAME=mariadb wait_for "MariaDB socket" "$MDB_LOG" test -S "$MDB_SOCK"
  # A data directory whose root password is not the one in secrets/ (secrets removed, data kept) never gets ready:
  # say so now instead of after the whole start-up timeout.
  local probe
  probe="$(mdb_root -e 'SELECT 1' 2>&1 || true)"
  if grep -q 'Access denied' <<<"$probe"; then
    die "MariaDB refuses root's password from $SECRETS_DIR (were the secrets removed but not the data?); run 'stack/stackctl reset'"
  fi
  WAIT_PID_NAME=mariadb wait_for MariaDB "$MDB_LOG" mdb_ready
  if [ ! -f "$MDB_HOME/.root_password_set" ]; then
    # A fresh server's root has an empty password: give it one, and drop every other root and anonymous account.
    printf "ALTER USER 'root'@'localhost' IDENTIFIED BY '%s';\n" "$(secret mariadb_root_password)" | mdb_root \
      || die "could not set MariaDB's root password"
    touch "$MDB_HOME/.root_password_set"
    mdb_root_cnf
    mdb_root -e "SELECT CONCAT('DROP USER ', QUOTE(user), '@', QUOTE(host), ';') FROM mysql.user
                 WHERE (user = 'root' AND host <> 'localhost') OR user = ''" | mdb_root
  fi
  # Idempotent: the accounts follow the secrets files on every start (secrets are alphanumeric: no quoting).
  {
    cat <<SQL
CREATE DATABASE IF NOT EXISTS $MDB_DEMO_SOURCE_DB;
CREATE DATABASE IF NOT EXISTS $MDB_DEMO_TARGET_DB;
CREATE USER IF NOT EXISTS 'cdcflow'@'$HOST';
CREATE USER IF NOT EXISTS '$MDB_DEMO_SOURCE_USER'@'$HOST';
CREATE USER IF NOT EXISTS '$MDB_DEMO_TARGET_USER'@'$HOST';
ALTER USER 'cdcflow'@'$HOST' IDENTIFIED BY '$(secret mariadb_app_password)';
ALTER USER '$MDB_DEMO_SOURCE_USER'@'$HOST' IDENTIFIED BY '$(secret mariadb_demo_source_password)';
ALTER USER '$MDB_DEMO_TARGET_USER'@'$HOST' IDENTIFIED BY '$(secret mariadb_demo_target_password)';
GRANT ALL PRIVILEGES ON *.* TO 'cdcflow'@'$HOST' WITH GRANT OPTION;
-- Debezium's documented set for its MariaDB connector (REPLICATION CLIENT is called BINLOG MONITOR since 10.5).
GRANT SELECT, RELOAD, SHOW DATABASES, REPLICATION SLAVE, BINLOG MONITOR ON *.* TO '$MDB_DEMO_SOURCE_USER'@'$HOST';
GRANT ALL PRIVILEGES ON $MDB_DEMO_SOURCE_DB.* TO '$MDB_DEMO_SOURCE_USER'@'$HOST';
GRANT ALL PRIVILEGES ON $MDB_DEMO_TARGET_DB.* TO '$MDB_DEMO_TARGET_USER'@'$HOST';
SQL
  } | mdb_root || die "MariaDB bootstrap (accounts, demo databases) failed"
}

mdb_down() { stop_daemon mariadb 60; }
