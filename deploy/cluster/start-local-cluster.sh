#!/usr/bin/env bash
# A Gatehouse cluster on one machine, from Debian packages, without containers: a PostgreSQL
# server, three gateway nodes on loopback ports, and nginx round-robin in front of them. For
# trying the cluster out and for load tests; a production cluster puts the nodes on separate
# hosts, PostgreSQL on its own (with TLS: storage.postgres.ssl) and nginx with TLS in front.
#
#   deploy/cluster/start-local-cluster.sh [DIR]     (default DIR: ./gatehouse-cluster)
#
# Needs (Node 24: node on PATH or NODE=/path/to/node): postgresql and nginx (apt-get install -y postgresql nginx; installed when missing and
# run as root), node and a built Gatehouse (npm run build) or `gatehouse` on PATH.
# Ports: nginx on 127.0.0.1:${GATEHOUSE_CLUSTER_PORT:-8800}, nodes on the next three.
# Stops everything it started on Ctrl-C (or SIGTERM). Secrets: the database password and the
# vault master key are generated into DIR (mode 0600) and reach the nodes through environment
# variables, never argv.
set -euo pipefail

DIR=$(realpath -m "${1:-./gatehouse-cluster}")
PORT=${GATEHOUSE_CLUSTER_PORT:-8800}
PG_PORT=${GATEHOUSE_CLUSTER_PG_PORT:-$((PORT + 32))}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
if command -v gatehouse >/dev/null 2>&1; then GATEHOUSE=(gatehouse); else GATEHOUSE=("${NODE:-node}" "$ROOT/dist/cli/main.js"); fi

need() { # binary package
  if [ ! -x "$1" ] && ! command -v "$1" >/dev/null 2>&1; then
    if [ "$(id -u)" -ne 0 ]; then echo "missing $1: apt-get install -y $2 (as root)" >&2; exit 1; fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$2" >/dev/null
  fi
}
need /usr/sbin/nginx nginx
[ -d /usr/lib/postgresql ] || need /usr/lib/postgresql postgresql
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)

mkdir -p "$DIR"/{pg,nginx/{client_body,proxy,fastcgi,uwsgi,scgi}}
chmod 755 "$DIR" "$DIR/nginx"
umask 077
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" -eq 0 ] && chown postgres: "$DIR/pg"

PIDS=()
cleanup() {
  trap - EXIT INT TERM
  [ -f "$DIR/nginx/nginx.pid" ] && kill -QUIT "$(cat "$DIR/nginx/nginx.pid")" 2>/dev/null || true
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  as_pg "$PG_BIN/pg_ctl" -D "$DIR/pg/data" -m fast -w stop >/dev/null 2>&1 || true
}
trap cleanup EXIT INT TERM

# ---- PostgreSQL: initialised once in DIR/pg, password generated into DIR/pg-password
if [ ! -f "$DIR/pg/data/PG_VERSION" ]; then
  head -c 18 /dev/urandom | base64 | tr -d '/+=' > "$DIR/pg-password"
  install -m 600 "$DIR/pg-password" "$DIR/pg/pwfile"
  [ "$(id -u)" -eq 0 ] && chown postgres: "$DIR/pg/pwfile"
  as_pg "$PG_BIN/initdb" -D "$DIR/pg/data" -U postgres --pwfile="$DIR/pg/pwfile" -A scram-sha-256 -E UTF8 --locale=C >/dev/null
  rm -f "$DIR/pg/pwfile"
  printf "port = %s\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '%s'\n" "$PG_PORT" "$DIR/pg" >> "$DIR/pg/data/postgresql.conf"
fi
as_pg "$PG_BIN/pg_ctl" -D "$DIR/pg/data" -l "$DIR/pg/server.log" -w start >/dev/null
PGPASSWORD=$(cat "$DIR/pg-password")
export PGPASSWORD
"$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'gatehouse'" | grep -q 1 ||
  "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc 'CREATE DATABASE gatehouse'
unset PGPASSWORD

# ---- the nodes: one config each, the same public URL (nginx), the same database and master key
[ -f "$DIR/master.key" ] || head -c 32 /dev/urandom | base64 > "$DIR/master.key"
export GATEHOUSE_DATABASE_URL="postgres://postgres:$(cat "$DIR/pg-password")@127.0.0.1:$PG_PORT/gatehouse"
export GATEHOUSE_MASTER_KEY_FILE="$DIR/master.key"
NODES=""
for i in 1 2 3; do
  NODE_PORT=$((PORT + i))
  if [ ! -f "$DIR/node$i.yaml" ]; then
    cat > "$DIR/node$i.yaml" <<YAML
# Node $i of the local cluster. Every node has the same settings except listen.port.
listen: { host: 127.0.0.1, port: $NODE_PORT }
publicUrl: http://127.0.0.1:$PORT
trustedProxies: [127.0.0.1/32]
storage:
  postgres:
    url: \${GATEHOUSE_DATABASE_URL}
servers: {}
YAML
  fi
  "${GATEHOUSE[@]}" start --config "$DIR/node$i.yaml" --data-dir "$DIR/node$i" > "$DIR/node$i.log" 2>&1 &
  PIDS+=($!)
  NODES+="    server 127.0.0.1:$NODE_PORT max_fails=1 fail_timeout=2s;"$'\n'
done
for i in 1 2 3; do
  for _ in $(seq 1 300); do grep -q 'Gatehouse ready at' "$DIR/node$i.log" && break; sleep 0.1; done
  grep -q 'Gatehouse ready at' "$DIR/node$i.log" || { echo "node $i did not start; see $DIR/node$i.log" >&2; exit 1; }
done

# ---- nginx from the template
NODES_FILE="$DIR/nginx/nodes.txt"
printf '%s' "$NODES" > "$NODES_FILE"
sed -e "s#@PREFIX@#$DIR/nginx#g" -e "s#@LISTEN@#127.0.0.1:$PORT#g" -e "/@NODES@/{
r $NODES_FILE
d
}" "$HERE/nginx.conf.template" > "$DIR/nginx/nginx.conf"
/usr/sbin/nginx -p "$DIR/nginx" -c "$DIR/nginx/nginx.conf" -g 'daemon off;' &
PIDS+=($!)

echo "Gatehouse cluster ready at http://127.0.0.1:$PORT/mcp (nodes on $((PORT + 1))-$((PORT + 3)), PostgreSQL on $PG_PORT)"
echo "  token:  GATEHOUSE_DATABASE_URL=… ${GATEHOUSE[*]} token issue --config $DIR/node1.yaml --sub alice"
echo "  logs:   $DIR/node*.log, $DIR/nginx/access.log (which node served each request)"
wait -n "${PIDS[@]}" || true
echo "a cluster process exited; stopping the rest" >&2
