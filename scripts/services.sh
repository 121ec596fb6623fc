#!/usr/bin/env bash
# Starts the real services Wisp's tests talk to — Redis, PostgreSQL,
# MariaDB and Mosquitto on their standard localhost ports — installing them
# from Debian's packages when absent. Idempotent: a service already
# answering is left alone.
set -euo pipefail

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi

up() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for() { # port name
  for _ in $(seq 1 50); do up "$1" && return 0; sleep 0.2; done
  echo "services: $2 did not start on port $1" >&2
  return 1
}

need=()
up 6379 || command -v redis-server >/dev/null || need+=(redis-server)
up 5432 || command -v pg_ctlcluster >/dev/null || need+=(postgresql)
up 3306 || [ -x /usr/sbin/mariadbd ] || need+=(mariadb-server)
up 1883 || command -v mosquitto >/dev/null || need+=(mosquitto)
if [ ${#need[@]} -gt 0 ]; then
  echo "services: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

if ! up 6379; then
  echo "services: starting redis"
  $SUDO mkdir -p /var/lib/redis /var/log/redis
  $SUDO redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  wait_for 6379 redis
fi
if ! up 5432; then
  echo "services: starting postgresql"
  $SUDO pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start
  wait_for 5432 postgresql
fi
if ! up 3306; then
  echo "services: starting mariadb"
  $SUDO start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
  wait_for 3306 mariadb
fi
if ! up 1883; then
  echo "services: starting mosquitto"
  $SUDO mosquitto -d -c /etc/mosquitto/mosquitto.conf
  wait_for 1883 mosquitto
fi
