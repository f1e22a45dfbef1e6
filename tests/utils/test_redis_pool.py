"""One Redis connection pool per process: built in the lifespan, shared, disconnected on shutdown."""

import pytest
import redis
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app

pytestmark = pytest.mark.redis


def test_an_app_with_redis_builds_one_pool_shares_it_and_disconnects_it(tmp_path, redis_url, monkeypatch):
    observer = redis.Redis.from_url(redis_url)
    pools: list[redis.ConnectionPool] = []
    built = redis.ConnectionPool.__init__

    def counted(self, *args, **kwargs):
        pools.append(self)
        built(self, *args, **kwargs)

    monkeypatch.setattr(redis.ConnectionPool, "__init__", counted)
    settings = Settings(_env_file=None, model_dir=str(tmp_path), redis_url=redis_url,  # type: ignore[call-arg]
                        rate_limit_per_minute=100, model_signing_key="k")
    app = create_app(settings)
    assert pools == []  # nothing connects before the lifespan
    with TestClient(app) as client:
        assert client.get("/health/ready").json()["checks"]["redis"] == "ok"  # the cache answers
        assert client.get("/api/v1/jobs").status_code == 200  # the job store answers
        state = app.state
        clients = {"cache": state.cache._client, "jobs": state.jobs._hashes._client,
                   "rate limiter": state.rate_limiter._client}
        assert len(pools) == 1
        assert {name: c.connection_pool is pools[0] for name, c in clients.items()} == dict.fromkeys(clients, True)
        assert observer.keys("ss:rl:*")  # requests were counted in Redis, through the same pool
        connection_ids = {state.redis.client_id() for _ in range(3)}
        listed = {int(entry["id"]) for entry in observer.client_list()}
        assert connection_ids <= listed
    listed = {int(entry["id"]) for entry in observer.client_list()}
    assert connection_ids.isdisjoint(listed), "the pool's connections are still open after shutdown"
    assert app.state.rate_limiter._client is None
    observer.close()
