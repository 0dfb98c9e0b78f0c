#!/usr/bin/env bash
# Redis and PostgreSQL from Debian's packages on 127.0.0.1, for trying production's engines on
# one machine (with deploy/kafka.sh for Apache Kafka). Installs them first when missing.
#
#   deploy/services.sh start DIR [REDIS_PORT] [PG_PORT]   start both, data in DIR; prints the
#                                                         VOC_* settings to export
#   deploy/services.sh stop DIR                           stop both (the data stays in DIR)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# postgres refuses to run as root: root runs its binaries as the `postgres` user.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_bin() {
  local found
  found="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
  [ -n "$found" ] || { echo "PostgreSQL is not installed" >&2; exit 1; }
  echo "$found"
}

start() {
  DIR="$(mkdir -p "$1" && cd "$1" && pwd)"
  REDIS_PORT="${2:-6379}"
  PG_PORT="${3:-5432}"
  bash "$HERE/install-services.sh" >&2
  mkdir -p "$DIR/redis" "$DIR/pg"
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$DIR/redis" --daemonize yes \
    --pidfile "$DIR/redis/redis.pid" --logfile "$DIR/redis/redis.log" >/dev/null
  local bin; bin="$(pg_bin)"
  if [ "$(id -u)" -eq 0 ]; then chown postgres "$DIR/pg"; fi
  if [ ! -f "$DIR/pg/data/PG_VERSION" ]; then
    as_owner "$bin/initdb" -D "$DIR/pg/data" -U postgres -E UTF8 --no-locale --auth=trust >/dev/null
    cat >>"$DIR/pg/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$DIR/pg'
CONF
  fi
  as_owner "$bin/pg_ctl" start -D "$DIR/pg/data" -l "$DIR/pg/postgres.log" -w -t 60 >/dev/null
  if ! as_owner "$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = 'voc'" | grep -q 1; then
    as_owner "$bin/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres voc
  fi
  echo "export VOC_DATABASE_URL=postgresql://postgres@127.0.0.1:$PG_PORT/voc"
  echo "export VOC_REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0"
}

stop() {
  DIR="$(cd "$1" && pwd)"
  if [ -f "$DIR/redis/redis.pid" ]; then
    local pid; pid="$(cat "$DIR/redis/redis.pid")"
    if kill "$pid" 2>/dev/null; then
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    rm -f "$DIR/redis/redis.pid"
  fi
  if [ -f "$DIR/pg/data/postmaster.pid" ]; then
    as_owner "$(pg_bin)/pg_ctl" stop -D "$DIR/pg/data" -m fast -w >/dev/null
  fi
}

case "${1:-}" in
  start) shift; start "$@" ;;
  stop) shift; stop "$@" ;;
  *) sed -n '2,8p' "$0" >&2; exit 2 ;;
esac
