#!/usr/bin/env bash
# Make sure a Redis answers on 127.0.0.1:6379 for the test suite: start redis-server when
# none answers and the binary exists. Prints what it did; never fails the run by itself
# (under CI=true the Redis tests fail loudly instead of skipping).
set -u
port="${REDIS_TEST_PORT:-6379}"
ping() { python3 - "$port" <<'PY'
import socket, sys
try:
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=0.5)
    s.sendall(b"PING\r\n"); ok = s.recv(16).startswith(b"+PONG"); s.close()
except OSError:
    ok = False
sys.exit(0 if ok else 1)
PY
}
if ping; then echo "redis: answering on 127.0.0.1:$port"; exit 0; fi
if ! command -v redis-server >/dev/null 2>&1; then
  echo "redis: none on 127.0.0.1:$port and no redis-server binary; Redis tests will skip (fail under CI=true)"
  exit 0
fi
redis-server --daemonize yes --bind 127.0.0.1 --port "$port" --save "" --appendonly no \
  --dir /tmp --logfile /tmp/smartshelf-test-redis.log
for _ in $(seq 1 50); do ping && { echo "redis: started redis-server on 127.0.0.1:$port"; exit 0; }; sleep 0.1; done
echo "redis: redis-server did not answer; see /tmp/smartshelf-test-redis.log"
