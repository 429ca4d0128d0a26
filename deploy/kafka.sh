#!/usr/bin/env bash
# A real Apache Kafka 4.x broker (KRaft, one combined broker+controller node) from Maven Central jars.
#   deploy/kafka.sh start    resolve the jars once, format storage once, start, wait, create the topics
#   deploy/kafka.sh stop     SIGTERM and wait
#   deploy/kafka.sh status   exit 0 when the broker accepts connections
#   deploy/kafka.sh topics   create the ctwatch topics (idempotent)
# Environment: KAFKA_PORT (9092), KAFKA_CONTROLLER_PORT (9093), CTWATCH_RUN_DIR (<repo>/.run).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
dist="$here/kafka-dist"
run_dir="${CTWATCH_RUN_DIR:-$here/../.run}"
mkdir -p "$run_dir"
run_dir=$(cd "$run_dir" && pwd)
port="${KAFKA_PORT:-9092}"
controller_port="${KAFKA_CONTROLLER_PORT:-9093}"
data="$run_dir/kafka"
pidfile="$run_dir/kafka.pid"
bootstrap="127.0.0.1:$port"

# topic name, partitions, retention (ms)
topics=(
  "ctwatch.certificates.observed.v1 12 604800000"
  "ctwatch.certificates.discovered.v1 12 2592000000"
  "ctwatch.certificates.audited.v1 12 2592000000"
  "ctwatch.certificates.observed.v1.dlq 3 2592000000"
  "ctwatch.certificates.discovered.v1.dlq 3 2592000000"
  "ctwatch.certificates.audited.v1.dlq 3 2592000000"
)

kafka_java() {
  java -Dlog4j2.configurationFile="$dist/config/tools-log4j2.properties" -cp "$dist/lib/*" "$@"
}

accepts_connections() { (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; }

resolve_jars() {
  if [ ! -f "$dist/lib/.complete" ]; then
    echo "kafka: resolving the broker jars from Maven Central into $dist/lib"
    (cd "$dist" && mvn -q -B dependency:copy-dependencies -DoutputDirectory=lib -DincludeScope=runtime)
    touch "$dist/lib/.complete"
  fi
}

write_config() {
  mkdir -p "$data/logs"
  cat > "$data/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$controller_port
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$data/logs
num.partitions=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
# topics are created by this script with the partition counts the design needs
auto.create.topics.enable=false
PROPS
}

create_topics() {
  local existing
  existing=$(kafka_java org.apache.kafka.tools.TopicCommand --bootstrap-server "$bootstrap" --list)
  for t in "${topics[@]}"; do
    read -r name partitions retention <<<"$t"
    if ! grep -qx "$name" <<<"$existing"; then
      kafka_java org.apache.kafka.tools.TopicCommand --bootstrap-server "$bootstrap" --create \
        --topic "$name" --partitions "$partitions" --replication-factor 1 --config "retention.ms=$retention" >/dev/null
      echo "kafka: created $name ($partitions partitions)"
    fi
  done
}

start() {
  if accepts_connections; then
    echo "kafka: something already listens on $bootstrap; using it"
    create_topics
    return
  fi
  resolve_jars
  write_config
  if [ ! -f "$data/logs/meta.properties" ]; then
    local id
    id=$(kafka_java kafka.tools.StorageTool random-uuid)
    kafka_java kafka.tools.StorageTool format --standalone -t "$id" -c "$data/server.properties" >/dev/null
  fi
  echo "kafka: starting on $bootstrap (log: $data/kafka.log)"
  nohup java -Xms256m -Xmx1g -Dlog4j2.configurationFile="$dist/config/log4j2.properties" \
    -cp "$dist/lib/*" kafka.Kafka "$data/server.properties" >"$data/kafka.log" 2>&1 &
  echo $! >"$pidfile"
  for _ in $(seq 1 120); do
    if accepts_connections; then
      echo "kafka: ready"
      create_topics
      return
    fi
    if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
      echo "kafka: the broker exited; last lines of its log:" >&2
      tail -20 "$data/kafka.log" >&2
      exit 1
    fi
    sleep 0.5
  done
  echo "kafka: not accepting connections on $bootstrap after 60 s" >&2
  exit 1
}

stop() { stop_pidfile "$pidfile" kafka; }

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) accepts_connections ;;
  # a broker started elsewhere (another checkout, a developer's own) still needs our tool jars
  topics) resolve_jars && create_topics ;;
  *) echo "usage: $0 start|stop|status|topics" >&2; exit 2 ;;
esac
