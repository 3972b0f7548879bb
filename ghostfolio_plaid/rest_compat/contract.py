"""JSON Schemas of the REST contract's bodies; the route table and the OpenAPI document both use these."""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]


def nullable(kind: str, **extra: Any) -> Schema:
    return {"type": [kind, "null"], **extra}


def obj(properties: dict[str, Schema], *, required: list[str] | None = None) -> Schema:
    return {"type": "object", "properties": properties, "required": required or list(properties)}


STRING = {"type": "string"}
UUID = {"type": "string", "format": "uuid"}
TIME = {"type": "string", "format": "date-time"}

ERROR = obj({"statusCode": {"type": "integer"}, "message": STRING, "error": STRING})
LINK_TOKEN = obj({"linkToken": STRING, "expiration": TIME})
EXCHANGE_REQUEST = obj(
    {
        "publicToken": {"type": "string", "minLength": 1},
        "institutionId": {"type": "string", "minLength": 1},
        "institutionName": {"type": "string", "minLength": 1},
        "accounts": {
            "type": "array",
            "items": obj(
                {
                    "id": {"type": "string", "minLength": 1},
                    "name": {"type": "string", "minLength": 1},
                    "type": {"type": "string", "minLength": 1},
                    "subtype": nullable("string"),
                    "mask": nullable("string"),
                },
                required=["id", "name", "type"],
            ),
        },
    }
)
EXCHANGE_RESPONSE = obj(
    {
        "plaidItemId": UUID,
        "accounts": {"type": "array", "items": obj({"accountId": UUID, "plaidAccountId": STRING, "name": STRING})},
    }
)
SYNC_RESPONSE = obj({"jobId": UUID, "message": STRING})
MESSAGE = obj({"message": STRING})
GHOSTFOLIO = obj(
    {
        "status": {"enum": ["OFF", "PENDING", "SYNCED", "FAILED"]},
        "lastPushedAt": nullable("string", format="date-time"),
        "pendingChanges": {"type": "integer", "minimum": 0},
        "error": nullable("string"),
    }
)
"""The item as delivered to Ghostfolio: OFF without the connector, FAILED when Ghostfolio refused a push."""
ITEM = obj(
    {
        "id": UUID,
        "institutionId": nullable("string"),
        "institutionName": nullable("string"),
        "lastSyncedAt": nullable("string", format="date-time"),
        "error": nullable("string"),
        "consentExpiresAt": nullable("string", format="date-time"),
        "accountCount": {"type": "integer", "minimum": 0},
        "createdAt": TIME,
        "status": {"enum": ["ACTIVE", "LOGIN_REQUIRED", "PENDING_EXPIRATION", "ERROR", "DISCONNECTED"]},
        "disconnectedAt": nullable("string", format="date-time"),
        "ghostfolio": GHOSTFOLIO,
    }
)
ITEMS = obj({"items": {"type": "array", "items": ITEM}})
WEBHOOK = obj(
    {"webhook_type": STRING, "webhook_code": STRING, "item_id": STRING},
)
