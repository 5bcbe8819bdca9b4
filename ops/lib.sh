# Shared provisioning for ops/dev, ops/test and the benchmark scripts. Source it; do not run it.
# Everything runs on 127.0.0.1 with its data under var/ (ignored by git).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VAR="$ROOT/var"
mkdir -p "$VAR/log"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# Installs the Debian packages the project needs, if any is missing.
ensure_packages() {
  local missing=()
  command -v redis-server >/dev/null || missing+=(redis-server)
  command -v redis-cli >/dev/null || missing+=(redis-tools)
  [ -f /usr/include/hiredis/hiredis.h ] || missing+=(libhiredis-dev)
  [ -x /usr/lib/postgresql/15/bin/initdb ] || missing+=(postgresql-15)
  [ -f /usr/include/postgresql/libpq-fe.h ] || missing+=(libpq-dev)
  # Multiarch: the header is under /usr/include/<triple>/curl.
  compgen -G '/usr/include/*/curl/curl.h' >/dev/null || [ -f /usr/include/curl/curl.h ] || missing+=(libcurl4-openssl-dev)
  command -v psql >/dev/null || missing+=(postgresql-client-15)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "ops: installing ${missing[*]}" >&2
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

# start_redis NAME PORT [persist]: a redis-server on 127.0.0.1:PORT with data in var/redis-NAME.
start_redis() {
  local name=$1 port=$2 persist=${3:-no}
  local dir="$VAR/redis-$name"
  mkdir -p "$dir"
  if redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null 2>&1; then
    echo "ops: redis '$name' already answers on 127.0.0.1:$port" >&2
    return 0
  fi
  local persistence=(--save "" --appendonly no)
  [ "$persist" = yes ] && persistence=(--appendonly yes --appendfsync everysec)
  redis-server --bind 127.0.0.1 --port "$port" --dir "$dir" --daemonize yes \
    --pidfile "$dir/redis.pid" --logfile "$VAR/log/redis-$name.log" "${persistence[@]}" \
    --protected-mode yes --maxmemory-policy noeviction
  for _ in $(seq 1 100); do
    redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null 2>&1 && { echo "ops: redis '$name' up on 127.0.0.1:$port" >&2; return 0; }
    sleep 0.1
  done
  echo "ops: redis '$name' did not start; see $VAR/log/redis-$name.log" >&2
  return 1
}

stop_redis() {
  local name=$1 port=$2
  redis-cli -h 127.0.0.1 -p "$port" shutdown nosave >/dev/null 2>&1 || true
}

PG_BIN=/usr/lib/postgresql/15/bin

# Runs a command as the postgres user when we are root: initdb refuses to run as root.
as_pg() { if [ "$(id -u)" = 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi; }

# start_postgres NAME PORT: PostgreSQL 15 on 127.0.0.1:PORT with data in var/pg-NAME, trust auth
# on loopback only, and a database named thepred. PG_FSYNC (on) and PG_OPTS (extra -c settings) tune it.
# Prints nothing but progress on stderr.
start_postgres() {
  local name=$1 port=$2
  local dir="$VAR/pg-$name"
  if pg_isready -h 127.0.0.1 -p "$port" -q 2>/dev/null; then
    echo "ops: postgres '$name' already answers on 127.0.0.1:$port" >&2
  else
    # The server runs as postgres, which must be able to reach its data folder; a checkout under
    # a private (0700) folder cannot give it that, so the data then lives under /var/tmp instead.
    if [ "$(id -u)" = 0 ] && ! runuser -u postgres -- test -x "$VAR" 2>/dev/null; then
      dir="/var/tmp/thepred-$(printf '%s' "$ROOT" | md5sum | cut -c1-8)/pg-$name"
      mkdir -p "$(dirname "$dir")" && chmod 755 "$(dirname "$dir")"
      echo "ops: postgres cannot reach $VAR; its data goes to $dir" >&2
    fi
    if [ ! -f "$dir/PG_VERSION" ]; then
      mkdir -p "$dir"
      [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
      chmod 700 "$dir"
      as_pg "$PG_BIN/initdb" -D "$dir" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    fi
    echo "$dir" >"$VAR/pg-$name.path"
    as_pg "$PG_BIN/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 30 start \
      -o "-p $port -c listen_addresses=127.0.0.1 -k $dir -c fsync=${PG_FSYNC:-on} ${PG_OPTS:-}" >/dev/null
    echo "ops: postgres '$name' up on 127.0.0.1:$port" >&2
  fi
  psql -h 127.0.0.1 -p "$port" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'thepred'" | grep -q 1 \
    || psql -h 127.0.0.1 -p "$port" -U postgres -qc "CREATE DATABASE thepred" >/dev/null
}

stop_postgres() {
  local name=$1
  local dir
  dir=$(cat "$VAR/pg-$name.path" 2>/dev/null || echo "$VAR/pg-$name")
  [ -f "$dir/postmaster.pid" ] && as_pg "$PG_BIN/pg_ctl" -D "$dir" -m fast stop >/dev/null 2>&1 || true
}

# ensure_prometheus: Debian's prometheus (with promtool), for ops/dev and ops/check-observability.
ensure_prometheus() {
  command -v prometheus >/dev/null && command -v promtool >/dev/null && return 0
  echo "ops: installing prometheus" >&2
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq prometheus >/dev/null
  # The package starts its own service where systemd runs; ours run from var/ on their own ports.
  as_root systemctl disable --now prometheus prometheus-node-exporter >/dev/null 2>&1 || true
}

# start_prometheus NAME PORT FRONT WORKERS SCHEDULERS: Prometheus on 127.0.0.1:PORT with the
# project's configuration (ops/prometheus), data in var/prometheus-NAME. The last three are
# comma-separated host:port lists of /metrics listeners, written as its file_sd targets.
start_prometheus() {
  local name=$1 port=$2 dir="$VAR/prometheus-$1"
  mkdir -p "$dir/targets" "$dir/data"
  cp "$ROOT/ops/prometheus/prometheus.yml" "$ROOT/ops/prometheus/alerts.yml" "$dir/"
  local role list
  for role in front worker scheduler; do
    case $role in front) list=$3 ;; worker) list=$4 ;; scheduler) list=$5 ;; esac
    python3 -c 'import json,sys; print(json.dumps([{"targets": [t for t in sys.argv[1].split(",") if t]}]))' "$list" \
      >"$dir/targets/$role.json"
  done
  if [ -f "$dir/prometheus.pid" ] && kill -0 "$(cat "$dir/prometheus.pid")" 2>/dev/null; then
    echo "ops: prometheus '$name' already runs; its targets were rewritten" >&2
    return 0
  fi
  # Another Prometheus (Debian's own service, another checkout's) must not answer for this one.
  if curl -s -o /dev/null "http://127.0.0.1:$port/"; then
    echo "ops: 127.0.0.1:$port is taken by another process; set another port" >&2
    return 1
  fi
  prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/data" \
    --web.listen-address="127.0.0.1:$port" --storage.tsdb.retention.time=2d \
    >"$VAR/log/prometheus-$name.log" 2>&1 &
  local pid=$!
  echo "$pid" >"$dir/prometheus.pid"
  for _ in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || break
    curl -sf "http://127.0.0.1:$port/-/ready" >/dev/null && { echo "ops: prometheus '$name' up on http://127.0.0.1:$port" >&2; return 0; }
    sleep 0.1
  done
  echo "ops: prometheus '$name' did not start; see var/log/prometheus-$name.log" >&2
  return 1
}

# stop_prometheus NAME
stop_prometheus() {
  local pidfile="$VAR/prometheus-$1/prometheus.pid"
  [ -f "$pidfile" ] || return 0
  local pid; pid=$(cat "$pidfile")
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  rm -f "$pidfile"
}
