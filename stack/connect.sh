# Kafka Connect for stack/stackctl: CDCFLOW_CONNECT_WORKERS distributed workers in one group, their properties,
# REST credentials, start, readiness and stop. Sourced by stackctl after lib.sh, never executed.

# Worker i (0-based) of the group: its daemon name (worker 0 keeps the single-worker stack's name), REST port and
# properties file.
connect_name() { if [ "$1" -eq 0 ]; then echo connect; else echo "connect-$1"; fi; }
connect_port() { echo $((CONNECT_PORT + $1)); }
connect_props() { echo "$STACK_DIR/connect/$(connect_name "$1").properties"; }
connect_urls() {
  local i urls=()
  for ((i = 0; i < CONNECT_WORKERS; i++)); do urls+=("http://$HOST:$(connect_port "$i")"); done
  (IFS=,; echo "${urls[*]}")
}

connect_init() {
  mkdir -p "$STACK_DIR/connect" "$CONNECT_SECRETS_DIR"
  chmod 700 "$CONNECT_SECRETS_DIR"
  local i port
  for ((i = 0; i < CONNECT_WORKERS; i++)); do
    port="$(connect_port "$i")"
    # Every worker: the same group.id and storage topics (one Connect cluster), its own REST listener.
    cat >"$(connect_props "$i")" <<EOF
bootstrap.servers=$HOST:$KAFKA_PORT
group.id=cdcflow-connect
listeners=http://$HOST:$port
rest.advertised.host.name=$HOST
rest.advertised.port=$port
key.converter=org.apache.kafka.connect.json.JsonConverter
value.converter=org.apache.kafka.connect.json.JsonConverter
key.converter.schemas.enable=true
value.converter.schemas.enable=true
config.storage.topic=_cdcflow_connect_configs
offset.storage.topic=_cdcflow_connect_offsets
status.storage.topic=_cdcflow_connect_status
config.storage.replication.factor=1
offset.storage.replication.factor=1
status.storage.replication.factor=1
offset.flush.interval.ms=1000
# Stream tuning lives in the connector configs cdcflow builds (engine/connect/configs.py): they set producer.override.*
# and consumer.override.* per connector, which the worker refuses unless this policy allows them.
connector.client.config.override.policy=All
# A worker that leaves or dies has its connectors and tasks reassigned at the next rebalance, not held for it for
# the default 5 minutes (incremental cooperative rebalancing); a dead worker is noticed after session.timeout.ms.
scheduled.rebalance.max.delay.ms=0
plugin.path=$JARS_DIR/plugins
# Every plugin on the path ships ServiceLoader manifests (Connect itself says so under hybrid_warn): skipping the
# reflection scan cuts minutes off a start on a busy 2-core machine.
plugin.discovery=service_load
# Connector configs reference secrets as \${dir:<path>:<key>} so Connect's REST API never shows them.
config.providers=file,dir
config.providers.file.class=org.apache.kafka.common.config.provider.FileConfigProvider
config.providers.dir.class=org.apache.kafka.common.config.provider.DirectoryConfigProvider
config.providers.file.param.allowed.paths=$CONNECT_SECRETS_DIR
config.providers.dir.param.allowed.paths=$CONNECT_SECRETS_DIR
# Every REST call but the workers' own signed internal requests needs the basic-auth credentials.
rest.extension.classes=org.apache.kafka.connect.rest.basic.auth.extension.BasicAuthSecurityRestExtension
EOF
  done
  rm -f "$STACK_DIR/connect/connect-distributed.properties"  # worker 0's file before workers had numbers
  # PropertyFileLoginModule lets every request through when its file is empty: never write an empty password.
  local rest_pw; rest_pw="$(secret connect_rest_password 32)"
  [ -n "$rest_pw" ] || die "no Connect REST password in $SECRETS_DIR/connect_rest_password"
  (umask 077; printf '%s=%s\n' "$CONNECT_REST_USER" "$rest_pw" >"$CONNECT_REST_USERS_FILE")
  cat >"$CONNECT_JAAS_FILE" <<EOF
KafkaConnect {
  org.apache.kafka.connect.rest.basic.auth.extension.PropertyFileLoginModule required
  file="$CONNECT_REST_USERS_FILE";
};
EOF
}

# connect_curl PATH [PORT]: curl against a worker's REST API with the basic-auth credentials, passed on stdin (never
# on a command line).
connect_curl() {
  printf 'user = "%s:%s"\n' "$CONNECT_REST_USER" "$(secret connect_rest_password 32)" |
    curl -fsS --max-time 5 -K - "http://$HOST:${2:-$CONNECT_PORT}$1"
}

# The HTTP status a worker answers a request without credentials with (401 once basic auth is on).
connect_anonymous_status() {
  curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://$HOST:${1:-$CONNECT_PORT}/connectors" || true
}

connect_ready() {
  local plugins
  plugins="$(connect_curl '/connector-plugins?connectorsOnly=false' "${1:-$CONNECT_PORT}")" || return 1
  grep -q 'io.debezium.connector.postgresql.PostgresConnector' <<<"$plugins" &&
    grep -q 'io.debezium.connector.mariadb.MariaDbConnector' <<<"$plugins" &&
    grep -q 'io.debezium.connector.jdbc.JdbcSinkConnector' <<<"$plugins" &&
    grep -q 'io.cdcflow.connect.SchemaRefConverter' <<<"$plugins"
}

# The worker's JVM: heap, garbage collector, compiler settings (CDCFLOW_CONNECT_JVM_OPTS replaces them, to measure
# others), then the options every stack JVM shares and the class path. A fresh worker runs interpreted for minutes
# and fell seconds behind at 1,000 commits/s; what each option bought is in bench/results/cdc_levers.md.
CONNECT_JVM_OPTS_DEFAULT="-XX:+UseG1GC -XX:MaxGCPauseMillis=50"
# shellcheck disable=SC2206  # options are words
CONNECT_JVM=($CONNECT_HEAP_OPTS ${CDCFLOW_CONNECT_JVM_OPTS:-$CONNECT_JVM_OPTS_DEFAULT} "${JAVA_COMMON[@]}"
  -cp "$JARS_DIR/kafka/*")
CONNECT_CDS_DIR="$STACK_DIR/connect/cds"

# Application class data sharing (CDCFLOW_CONNECT_CDS=0 turns it off): the classes a worker loaded, parsed and
# verified once, mapped from an archive by every later start instead of read from ~300 jars again. The first start
# without an archive records one (-XX:ArchiveClassesAtExit, written when that worker stops: stackctl down or
# connect-restart); later starts map it. An archive belongs to one JVM, one set of options and one set of jars
# (its name hashes all three), so a new JDK, `make jars` or other options start a new recording; before an archive
# is used, the JVM is asked to map it (-Xshare:on, which fails on a stale, truncated or foreign archive), and one
# that fails is deleted and recorded again. A worker started with a broken archive would silently run without
# sharing, never an error.
connect_archive_key() {
  { java -version 2>&1; printf '%s\n' "${CONNECT_JVM[@]}"
    find -L "$JARS_DIR/kafka" "$JARS_DIR/plugins" -name '*.jar' -printf '%p %s %T@\n' | sort; } | sha1sum | cut -c1-16
}

connect_class_archive() {
  local i="$1" archive part
  CONNECT_CDS=()
  [ "${CDCFLOW_CONNECT_CDS:-1}" = 1 ] || return 0
  mkdir -p "$CONNECT_CDS_DIR"
  archive="$CONNECT_CDS_DIR/connect-$(connect_archive_key).jsa"
  for part in "$CONNECT_CDS_DIR"/*; do  # archives of other JVMs, options or jars, and recordings cut short
    [ -e "$part" ] && [[ "$part" != "$archive"* ]] && rm -f "$part"
  done
  # A worker's recording (each worker writes its own) becomes the archive once the JVM accepts it.
  for part in "$archive".part-*; do
    [ -s "$archive" ] || [ ! -s "$part" ] || ! connect_archive_usable "$part" || mv -f "$part" "$archive"
  done
  if [ -s "$archive" ]; then
    if connect_archive_usable "$archive"; then CONNECT_CDS=("-XX:SharedArchiveFile=$archive"); return 0; fi
    log "Connect's class archive $archive does not map: recording a new one"
    rm -f "$archive"
  fi
  rm -f "$archive.part-$i"
  CONNECT_CDS=("-XX:ArchiveClassesAtExit=$archive.part-$i")
}

# A truncated archive aborts the JVM (exit 134) rather than failing cleanly: its crash report goes nowhere.
connect_archive_usable() {
  java "${CONNECT_JVM[@]}" -Xshare:on "-XX:SharedArchiveFile=$1" -XX:ErrorFile=/dev/null -version >/dev/null 2>&1
}

connect_worker_start() {
  local i="$1" name port
  name="$(connect_name "$i")" port="$(connect_port "$i")"
  # A worker started before REST auth existed keeps answering anyone: restart it with the new settings.
  if pid_alive "$name" && [ "$(connect_anonymous_status "$port")" = 200 ]; then
    log "Kafka Connect worker $i answers without credentials: restarting it with REST authentication"
    stop_daemon "$name" 60
  fi
  if ! pid_alive "$name"; then
    port_taken "$port" && die "port $port (Connect worker $i) is taken by another process; set CDCFLOW_CONNECT_PORT"
    log "starting Kafka Connect worker $i (distributed) on $HOST:$port"
    connect_class_archive "$i"
    start_daemon "$name" "$LOG_DIR/$name.log" java "${CONNECT_JVM[@]}" "${CONNECT_CDS[@]}" \
      "-Dkafka.logs.dir=$LOG_DIR" "-Djava.security.auth.login.config=$CONNECT_JAAS_FILE" \
      org.apache.kafka.connect.cli.ConnectDistributed "$(connect_props "$i")"
  fi
}

# Workers of an earlier, larger CDCFLOW_CONNECT_WORKERS are stopped: the group is exactly what the env file lists.
connect_stop_extra() {
  local pidfile name i
  for pidfile in "$RUN_DIR"/connect-*.pid; do
    [ -e "$pidfile" ] || continue
    name="$(basename "$pidfile" .pid)" i="${name#connect-}"
    if ! [[ "$i" =~ ^[0-9]+$ ]] || [ "$i" -ge "$CONNECT_WORKERS" ]; then stop_daemon "$name" 60; fi
  done
}

connect_up() {
  [ -d "$JARS_DIR/plugins/debezium-connector-postgres" ] && [ -d "$JARS_DIR/plugins/debezium-connector-mariadb" ] \
    && [ -f "$JARS_DIR/plugins/cdcflow-converter/cdcflow-converter.jar" ] \
    || die "Debezium or cdcflow converter jars missing; run 'make jars'"
  connect_init
  connect_stop_extra
  local i name port anonymous
  # All workers start together (each loads its plugins for a while), then each is waited on.
  for ((i = 0; i < CONNECT_WORKERS; i++)); do connect_worker_start "$i"; done
  for ((i = 0; i < CONNECT_WORKERS; i++)); do
    name="$(connect_name "$i")" port="$(connect_port "$i")"
    WAIT_PID_NAME="$name" wait_for "Kafka Connect worker $i on port $port (the Debezium plugins and the cdcflow converter listed)" \
      "$LOG_DIR/$name.log" connect_ready "$port"
    anonymous="$(connect_anonymous_status "$port")"
    [ "$anonymous" = 401 ] || die "Kafka Connect worker $i answers a request without credentials with $anonymous, not 401"
  done
}

# Stops every worker and starts the group again (a fresh JVM each): the cold start make bench-cdc --cold measures.
connect_restart() {
  connect_down
  connect_up
}

connect_down() {
  local pidfile
  for pidfile in "$RUN_DIR"/connect-*.pid; do [ -e "$pidfile" ] && connect_worker_stop "$(basename "$pidfile" .pid)"; done
  connect_worker_stop connect
}

# A worker recording the class archive writes it as it exits: after streaming for a while that is every class of
# Connect, Debezium, the JDBC sink and Hibernate, which took over a minute on the busy 2-core machine. It gets five
# minutes; killed sooner, it leaves a truncated recording that the next start rejects (connect_class_archive).
connect_worker_stop() {
  local grace=60 pid
  pid="$(cat "$RUN_DIR/$1.pid" 2>/dev/null)" || true
  if [[ "$pid" =~ ^[0-9]+$ ]] && tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -q '^-XX:ArchiveClassesAtExit='; then
    log "$1 writes Connect's class archive as it stops (once per JVM, options and jars)"
    grace=300
  fi
  stop_daemon "$1" "$grace"
}
