#!/usr/bin/env bash
# Apache Kafka 4.x on 127.0.0.1, single node in KRaft mode (combined broker and controller),
# assembled from Maven Central by deploy/kafka/pom.xml. Needs Java 17 and Maven.
#
#   deploy/kafka.sh jars                      resolve the jars once into deploy/kafka/lib
#   deploy/kafka.sh start DIR [PORT] [CPORT]  format DIR (first time) and start; prints the bootstrap
#   deploy/kafka.sh stop DIR                  stop the broker started in DIR
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
LIB="$HERE/kafka/lib"

jars() {
  if [ -f "$LIB/.complete" ]; then return; fi
  command -v mvn >/dev/null || { echo "Maven is needed to fetch Apache Kafka's jars" >&2; exit 1; }
  # To stderr: `start` prints the bootstrap address alone on stdout (Maven still writes color resets).
  (cd "$HERE/kafka" && mvn -q -B -Dstyle.color=never dependency:copy-dependencies -DoutputDirectory=lib -DincludeScope=runtime) >&2
  touch "$LIB/.complete"
}

java_cmd() {
  JAVA=(java -Xms128m -Xmx512m -XX:+UseG1GC -Djava.awt.headless=true
    -Dlog4j2.configurationFile="$DIR/log4j2.properties" -cp "$LIB/*")
}

start() {
  DIR="$(mkdir -p "$1" && cd "$1" && pwd)"
  PORT="${2:-9092}"
  CPORT="${3:-$((PORT + 1))}"
  jars
  cat > "$DIR/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$CPORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CPORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$DIR/data
num.partitions=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
PROPS
  cat > "$DIR/log4j2.properties" <<LOG
status = warn
appender.file.type = File
appender.file.name = file
appender.file.fileName = $DIR/kafka.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.file.ref = file
LOG
  java_cmd
  if [ ! -f "$DIR/data/meta.properties" ]; then
    cluster="$("${JAVA[@]}" kafka.tools.StorageTool random-uuid)"
    "${JAVA[@]}" kafka.tools.StorageTool format -t "$cluster" -c "$DIR/server.properties" \
      --standalone >/dev/null
  fi
  : >"$DIR/kafka.log"
  # Started directly, not through a function, so that $! is the JVM itself and stop can kill it.
  "${JAVA[@]}" kafka.Kafka "$DIR/server.properties" >"$DIR/stdout.log" 2>&1 &
  echo $! >"$DIR/kafka.pid"
  for _ in $(seq 1 120); do
    # An open port is not enough: the controller can still fail after the broker listens.
    if grep -q "Kafka Server started" "$DIR/kafka.log"; then
      echo "127.0.0.1:$PORT"
      return
    fi
    if ! kill -0 "$(cat "$DIR/kafka.pid")" 2>/dev/null; then
      echo "Apache Kafka exited; see $DIR/kafka.log" >&2
      exit 1
    fi
    sleep 0.5
  done
  echo "Apache Kafka did not listen on $PORT within 60 s; see $DIR/kafka.log" >&2
  exit 1
}

stop() {
  local pidfile="$1/kafka.pid"
  [ -f "$pidfile" ] || return 0
  local pid; pid="$(cat "$pidfile")"
  if kill "$pid" 2>/dev/null; then
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}

case "${1:-}" in
  jars) jars ;;
  start) shift; start "$@" ;;
  stop) shift; stop "$@" ;;
  *) sed -n '2,8p' "$0" >&2; exit 2 ;;
esac
