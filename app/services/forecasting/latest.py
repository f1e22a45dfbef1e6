"""Each product's latest forecast, around the forecast path: read before an answer (to score it once its
dates have sales), kept after a new answer, served without training (GET /forecast/{shop}/{product}).

Kept in the cache (MODEL_CACHE_DAYS) and on disk beside the shop's models (MODEL_DIR/<shop digest>/latest/),
with the recent history it was made from for plots. The files are written behind the answer
(`app.utils.write_behind`): a many-product answer does not wait for them.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from app.config import Settings
from app.models import store
from app.models.panel import Panel
from app.schemas.forecast import ForecastResponse, ProductForecast
from app.services.forecasting.answer_cache import digest
from app.utils.cache import Cache
from app.utils.dates import dates_of
from app.utils.errors import NotFoundError
from app.utils.write_behind import WriteBehind

# each product's latest forecast file is written behind the answer
LATEST_FILES = WriteBehind(store.write_json)


class _Version(BaseModel):
    """The one field of a stored forecast read to tell whether it is the answer's own (the rest is skipped)."""

    model_version: str


@dataclass(frozen=True)
class LastAnswers:
    """The requested products' latest forecasts before this request: as cached (raw JSON, None when not
    cached, to skip rewriting an unchanged one) and, for those not cached, as read from disk (None when never
    made). A cached one is decoded only when it is not the answer's own (`unlike`): a repeated request reads
    one field of each."""

    keys: list[str]
    cached: list[bytes | None]
    on_disk: list[ProductForecast | None]

    def unlike(self, versions: Sequence[str]) -> list[ProductForecast | None]:
        """Per answered product (`versions`: the answer's model versions), its previous forecast when of another
        model version, else None (monitoring scores only those)."""
        previous: list[ProductForecast | None] = []
        for raw, stored, version in zip(self.cached, self.on_disk, versions, strict=True):
            if raw is not None and not _made_as(raw, version):
                stored = ProductForecast.model_validate_json(raw)
            previous.append(stored if stored is not None and stored.model_version != version else None)
        return previous


_VERSION_FIELD = b'"model_version":"'


def _made_as(raw: bytes, version: str) -> bool:
    """Whether a stored forecast (our own ProductForecast JSON, `model_dump_json`) is of model `version`, read
    without decoding it: its first `"model_version":"` is its own field (product_id and predictions come before
    it in the schema's order, and a text value holds no unescaped quote; `realized_accuracy` names an earlier
    version after it). Decoding every product's stored forecast for that one field took 13 ms of a 106 ms
    at-risk for 1,000 products with its forecast cached. Anything else decodes it as before."""
    start = raw.find(_VERSION_FIELD)
    if start < 0:
        return _Version.model_validate_json(raw).model_version == version
    start += len(_VERSION_FIELD)
    return raw[start:start + len(version) + 1] == version.encode() + b'"'


def latest_key(shop_id: str, product_id: str) -> str:
    return "ss:latest:" + digest(shop_id, product_id)


def _latest_path(settings: Settings, shop_id: str, product_id: str) -> Path:
    return store.shop_dir(settings.model_dir, shop_id) / "latest" / f"{digest(product_id)}.json"


def _read_latest(path: Path) -> Any:
    """A latest-forecast file's payload: the one still waiting to be written, else the file's."""
    pending = LATEST_FILES.pending(path)
    return pending if pending is not None else store.read_json(path)


def last_answers(cache: Cache, settings: Settings, shop_id: str, wanted: list[str]) -> LastAnswers:
    """The products' latest forecasts, read before this request's answer replaces them."""
    keys = [latest_key(shop_id, p) for p in wanted]
    cached = cache.get_many(keys)
    on_disk = [_on_disk(settings, shop_id, p) if raw is None else None for raw, p in zip(cached, wanted, strict=True)]
    return LastAnswers(keys, cached, on_disk)


def _on_disk(settings: Settings, shop_id: str, product_id: str) -> ProductForecast | None:
    raw = _read_latest(_latest_path(settings, shop_id, product_id))
    return ProductForecast.model_validate(raw) if raw is not None else None


def remember(response: ForecastResponse, last: LastAnswers, shop_id: str, panel: Panel, periods: int,
             settings: Settings, cache: Cache) -> None:
    """Keep each product's forecast as its latest (cache and disk, with the history tail for plots); one
    already stored as it is, and an answer from the cache (`meta.cache`: hit), are not written again."""
    if response.meta.cache == "hit":
        return
    index = {p: i for i, p in enumerate(panel.product_ids)}
    answers = {key: f.model_dump_json().encode() for key, f in zip(last.keys, response.forecasts, strict=True)}
    changed = [(key, f) for (key, answer), f, old in zip(answers.items(), response.forecasts, last.cached,
                                                          strict=True) if answer != old]
    if not changed:
        return
    cache.set_many({key: answers[key] for key, _ in changed}, settings.model_cache_days * 86400)
    for _, forecast in changed:
        LATEST_FILES.write(_latest_path(settings, shop_id, forecast.product_id),
                           {**forecast.model_dump(mode="json"),  # the model ignores `history` on reading
                            "history": _history_tail(panel, index[forecast.product_id], periods)})


def _history_tail(panel: Panel, row: int, periods: int) -> dict[str, list[Any]]:
    """The recent history a forecast was made from (for plots): 4x the horizon, at least 8 weeks."""
    length = min(int(panel.observed[row]), max(4 * periods, 56 // panel.step))
    first = panel.n_periods - length
    return {"dates": [d.isoformat() for d in dates_of(panel.days(first, length))],
            "qty": [float(v) for v in panel.values[row, first:]]}


def latest_forecast(shop_id: str, product_id: str, settings: Settings, cache: Cache) -> ProductForecast:
    """The newest stored forecast of a product, without training; 404 when there is none."""
    cached = cache.get_many([latest_key(shop_id, product_id)])[0]
    if cached is not None:
        return ProductForecast.model_validate_json(cached)
    on_disk = _read_latest(_latest_path(settings, shop_id, product_id))
    if on_disk is None:
        raise NotFoundError(f"no stored forecast for product {product_id!r} of shop {shop_id!r}; "
                            "POST /forecast first", field="product_id")
    return ProductForecast.model_validate(on_disk)


def forecast_history(shop_id: str, product_id: str, settings: Settings) -> dict[str, list[Any]] | None:
    """The history tail stored in the latest forecast's file (beside the forecast), or None."""
    stored = _read_latest(_latest_path(settings, shop_id, product_id)) or {}
    history: dict[str, list[Any]] | None = stored.get("history")
    return history
