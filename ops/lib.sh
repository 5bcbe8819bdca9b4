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
