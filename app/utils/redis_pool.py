"""One Redis connection pool per process, shared by the result cache, the job store and the rate limiter.

The API builds it in its lifespan when REDIS_URL is set and disconnects it on shutdown; a Celery
worker process builds its own the same way (`app.tasks.scheduled.worker_context`). Timeouts are
short, so a Redis that is down or unreachable costs a few milliseconds: connecting gives up after
`CONNECT_TIMEOUT_SECONDS`, a reply is awaited at most `READ_TIMEOUT_SECONDS` (long enough for the
job store's large results on a busy Redis). The cache and the rate limiter then leave Redis alone
for a couple of seconds (see their modules); the job store answers 503.
"""

import redis

CONNECT_TIMEOUT_SECONDS = 0.05
READ_TIMEOUT_SECONDS = 0.5


def connect(url: str | None) -> redis.Redis | None:
    """A client on a new connection pool for `url` (None without one): share it, then `disconnect` it."""
    if not url:
        return None
    pool = redis.ConnectionPool.from_url(url, socket_timeout=READ_TIMEOUT_SECONDS,
                                         socket_connect_timeout=CONNECT_TIMEOUT_SECONDS)
    return redis.Redis(connection_pool=pool)


def disconnect(client: redis.Redis | None) -> None:
    """Close every connection of the client's pool (the process is shutting down)."""
    if client is not None:
        client.connection_pool.disconnect()
