"""Shared fixtures: settings, the ASGI client, a real Redis, and slices of real retail data.

The slices live in tests/fixtures/ (README.md there: source, selection rule, sha256), so a clone of the
repository alone runs every data test; the full sets in ../shared/data are for benchmarks only.
"""

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from tests.support.server import serving

FIXTURES = Path(__file__).resolve().parent / "fixtures"
STORE_ITEM = FIXTURES / "store_item.csv.gz"
WALMART_WEEKLY = FIXTURES / "walmart_weekly.csv.gz"
M5 = FIXTURES / "m5_tx3_foods3"
REDIS_HOST, REDIS_PORT = "127.0.0.1", int(os.environ.get("REDIS_TEST_PORT", "6379"))
# the suite flushes only this database; REDIS_TEST_DB gives each concurrent checkout its own
REDIS_TEST_DB = int(os.environ.get("REDIS_TEST_DB", "13"))


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


@pytest.fixture(scope="session")
def live_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """A real uvicorn server of the app, for what only the wire shows (stalled bodies, header blocks,
    header values as sent); BODY_TIMEOUT_SECONDS=1 so a stalled body is refused quickly."""
    with serving({"MODEL_DIR": str(tmp_path_factory.mktemp("live-models")), "BODY_TIMEOUT_SECONDS": "1"}) as api:
        yield api


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
    """Real Kaggle store-item daily sales (date, store, item, sales): stores 1..4 x items 1..12, all dates,
    and stores 1..2 x all 50 items from 2017-01-01."""
    return pd.read_csv(STORE_ITEM, parse_dates=["date"])


@pytest.fixture(scope="session")
def walmart_weekly() -> pd.DataFrame:
    """Real Walmart weekly department sales (Store, Dept, Date, Weekly_Sales, IsHoliday), stores 1..2;
    Date stays a YYYY-MM-DD string, as in the file."""
    return pd.read_csv(WALMART_WEEKLY)


@pytest.fixture(scope="session")
def m5_sales() -> pd.DataFrame:
    """Real M5 daily unit sales of 30 TX_3 FOODS_3 items, wide: id, d_1 .. d_1941."""
    return pd.read_csv(M5 / "sales.csv.gz")


@pytest.fixture(scope="session")
def m5_calendar() -> pd.DataFrame:
    """The whole M5 calendar (d, date, wm_yr_wk, events, snap_TX, ...), 2011-01-29 .. 2016-06-19."""
    return pd.read_csv(M5 / "calendar.csv.gz", parse_dates=["date"])


@pytest.fixture(scope="session")
def m5_prices() -> pd.DataFrame:
    """Weekly sell prices (store_id, item_id, wm_yr_wk, sell_price) of the 30 items in `m5_sales`."""
    return pd.read_csv(M5 / "sell_prices.csv.gz")


def sales_rows(frame: pd.DataFrame, product_column: str = "item") -> list[dict]:
    """Rows of a store-item slice as the contract's sales rows."""
    return [
        {"product_id": f"p{p}", "date": d.strftime("%Y-%m-%d"), "qty": float(q)}
        for p, d, q in zip(frame[product_column], frame["date"], frame["sales"], strict=True)
    ]
