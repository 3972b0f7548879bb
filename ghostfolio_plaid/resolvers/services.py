"""What every operation is given explicitly: the process-wide services and the caller's credentials."""

from __future__ import annotations

from dataclasses import dataclass, field

from ghostfolio_plaid.config import Settings
from ghostfolio_plaid.crypto import TokenCipher
from ghostfolio_plaid.job_queue import SyncQueue
from ghostfolio_plaid.plaid_client import PlaidClient
from ghostfolio_plaid.resolvers.webhook_keys import WebhookKeyCache
from ghostfolio_plaid.user_limits import UserLimiter


@dataclass
class Services:
    settings: Settings
    plaid: PlaidClient
    queue: SyncQueue
    cipher: TokenCipher | None
    webhook_keys: WebhookKeyCache
    user_limits: UserLimiter
    known_users: set[str] = field(default_factory=set)

    def close(self) -> None:
        self.plaid.close()
        self.queue.close()


def build_services(settings: Settings) -> Services:
    key = settings.plaid_encryption_key
    plaid = PlaidClient(settings)
    queue = SyncQueue(settings.redis_url, settings.sync_queue_name, settings.sync_retry_intervals)
    hourly = {"link_token": settings.link_tokens_per_hour, "manual_sync": settings.manual_syncs_per_hour}
    return Services(
        settings=settings,
        plaid=plaid,
        webhook_keys=WebhookKeyCache(plaid.get_webhook_verification_key),
        queue=queue,
        user_limits=UserLimiter(queue.redis, {action: (calls, 3600) for action, calls in hourly.items()}),
        cipher=settings.cipher() if key else None,
    )
