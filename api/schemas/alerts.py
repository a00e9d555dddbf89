"""Alertmanager's webhook body (format version 4) and what Jarvis answers it."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import Output

Labels = dict[str, str]


class _Webhook(BaseModel):
    # Alertmanager may add fields in later versions: they are ignored, not refused
    model_config = ConfigDict(extra="ignore")


class AlertIn(_Webhook):
    status: Literal["firing", "resolved"]
    labels: Labels = Field(default_factory=dict, max_length=100)
    annotations: Labels = Field(default_factory=dict, max_length=100)
    startsAt: str = Field("", max_length=40)
    endsAt: str = Field("", max_length=40)
    generatorURL: str = Field("", max_length=2000)
    fingerprint: str = Field(min_length=1, max_length=64, pattern=r"^[0-9a-fA-F]+$",
                             description="Alertmanager's fingerprint of the alert's labels.")


class AlertmanagerWebhook(_Webhook):
    version: Literal["4"] = Field(description="The webhook format; Jarvis reads version 4.")
    status: Literal["firing", "resolved"]
    receiver: str = Field("", max_length=200)
    groupKey: str = Field("", max_length=2000)
    alerts: list[AlertIn] = Field(max_length=1000, description="At most 1,000 alerts per call "
                                  "(Alertmanager's `max_alerts` in the receiver keeps it there).")


class AlertsReceived(Output):
    connection: str = Field(description="The alertmanager connection whose token was sent.")
    opened: int
    updated: int
    resolved: int
    ignored: int = Field(description="Resolved alerts with no active incident (already resolved).")
