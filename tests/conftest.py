"""Shared fixtures: settings, the ASGI client, a real Redis, and real retail data."""

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
STORE_ITEM = SHARED_DATA / "store-item" / "train.csv.gz"
REDIS_HOST, REDIS_PORT = "127.0.0.1", int(os.environ.get("REDIS_TEST_PORT", "6379"))
REDIS_TEST_DB = 13  # the suite flushes only this database


def redis_answers(host: str = REDIS_HOST, port: int = REDIS_PORT) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(model_dir=str(tmp_path / "models"), _env_file=None)  # type: ignore[call-arg]


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def redis_url() -> Iterator[str]:
    """URL of a real Redis database flushed before and after the test."""
    if not redis_answers():
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but no Redis answers on {REDIS_HOST}:{REDIS_PORT}")
        pytest.skip(f"no Redis on {REDIS_HOST}:{REDIS_PORT}")
    import redis

    url = f"redis://{REDIS_HOST}:{REDIS_PORT}/{REDIS_TEST_DB}"
    connection = redis.Redis.from_url(url)
    connection.flushdb()
    yield url
    connection.flushdb()
    connection.close()


@pytest.fixture(scope="session")
def store_item() -> pd.DataFrame:
    """The real Kaggle store-item daily sales (date, store, item, sales); skip when absent."""
    if not STORE_ITEM.exists():
        pytest.skip(f"{STORE_ITEM} not present")
    return pd.read_csv(STORE_ITEM, parse_dates=["date"])


def sales_rows(frame: pd.DataFrame, product_column: str = "item") -> list[dict]:
    """Rows of a store-item slice as the contract's sales rows."""
    return [
        {"product_id": f"p{p}", "date": d.strftime("%Y-%m-%d"), "qty": float(q)}
        for p, d, q in zip(frame[product_column], frame["date"], frame["sales"], strict=True)
    ]
