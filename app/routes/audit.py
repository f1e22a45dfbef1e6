"""GET /api/v1/audit/verify."""

from fastapi import APIRouter

from app.routes.dependencies import SettingsDep, ShopGuardDep
from app.schemas.jobs import AuditReport
from app.services.records import audit
from app.utils.openapi import ERROR_RESPONSES

router = APIRouter(tags=["audit"])


@router.get(
    "/api/v1/audit/verify",
    response_model=AuditReport,
    summary="Walk the hash-chained audit log of trained models and pushed batches",
    description=(
        "Every model version trained and every batch pushed is appended to MODEL_DIR/audit.jsonl, each "
        "record carrying the SHA-256 of the one before. This walks the chain and reports the first "
        "broken link (a record changed, removed, inserted or truncated), or `ok` with the last hash."
    ),
    responses=ERROR_RESPONSES,
)
def verify_audit(settings: SettingsDep, guard: ShopGuardDep) -> AuditReport:
    """Verify the audit chain."""
    guard.require_all_shops()
    return AuditReport.model_validate(audit.verify(settings.model_dir))
