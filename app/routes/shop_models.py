"""POST /api/v1/smart-shelf/models/train and GET /api/v1/smart-shelf/models/{shop_id}."""

from typing import Annotated, Literal

from fastapi import APIRouter, Body, Query, Request

from app.routes.dependencies import ContextDep, ShopGuardDep, start_job
from app.schemas.jobs import JobAccepted
from app.schemas.sales import sales_examples
from app.schemas.shop_models import TRAIN_EXAMPLE, ModelCard, TrainRequest
from app.services.forecasting.shop_models import read_card
from app.services.jobs.intake import submit_training
from app.utils.openapi import CSV_UPLOAD, ERROR_RESPONSES, JOB_STORE_DOWN, NOT_FOUND, ErrorBody
from app.utils.sales_upload import BatchSalesRoute

router = APIRouter(prefix="/api/v1/smart-shelf", tags=["shop models"], route_class=BatchSalesRoute)


@router.post(
    "/models/train",
    response_model=JobAccepted,
    status_code=202,
    summary="Train the shop's model across its whole catalogue; answers 202 with a job id",
    description=(
        "One gradient-boosted model per shop and frequency, trained on every product sent (rows, series or a "
        "CSV upload, up to BATCH_MAX_ROWS values and SHOP_MODEL_MAX_CELLS products x periods). The last "
        "`periods` are held out first to score it beside the local families and to calibrate its intervals; "
        "then it is refitted on everything and stored, signed. From then on every POST /forecast of the shop "
        "(one product or many) is served by it while the request's history ends within "
        "SHOP_MODEL_MAX_AGE_DAYS of its training data. Poll `status_url`: `shop_model` shows the training's "
        "state and, once done, the model card."
    ),
    responses={**ERROR_RESPONSES, **JOB_STORE_DOWN},
    openapi_extra=CSV_UPLOAD,
)
def post_train(
    request: Annotated[TrainRequest, Body(openapi_examples=sales_examples(TRAIN_EXAMPLE))],
    ctx: ContextDep,
    guard: ShopGuardDep,
    http: Request,
) -> JobAccepted:
    """Train the shop model."""
    return start_job(request, ctx, guard, http, submit_training)


@router.get(
    "/models/{shop_id}",
    response_model=ModelCard,
    summary="The shop model's card: version, training window, features, held-out accuracy",
    description=(
        "What the shop's model is and how it did on the held-out last window (MASE, RMSSE, WRMSSE with "
        "revenue weights, 80/95% coverage, MSIS) beside the seasonal naive and moving average on the same "
        "window. `frequency` picks the daily or weekly model; without it, the newest. 404 when the shop has none; "
        "409 when one is stored but refused (signed with another MODEL_SIGNING_KEY or for another shop, written "
        "by other library versions, or tampered with), the message saying why."
    ),
    responses={**ERROR_RESPONSES, **NOT_FOUND, 409: {"model": ErrorBody, "description": "A shop model is stored "
                                                     "but refused; the message says why (`conflict`)."}},
)
def get_model_card(shop_id: str, ctx: ContextDep, guard: ShopGuardDep,
                   frequency: Annotated[Literal["daily", "weekly"] | None, Query()] = None) -> ModelCard:
    """The shop model's card."""
    guard(shop_id)
    return read_card(shop_id, ctx.settings, ctx.signing_key, frequency)
