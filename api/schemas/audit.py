from __future__ import annotations

import datetime as dt
from typing import Any

from api.schemas.common import Output


class AuditPublic(Output):
    id: int
    at: dt.datetime
    user_id: int | None
    user_email: str
    role: str
    action: str
    target: str
    ip: str
    result: str
    status: int
    request_id: str
    detail: dict[str, Any]
