"""Ghostfolio 3.58's enumerations and fixed ids, in the order its Prisma schema declares them.

The order matters: class-validator lists an enum's values in declaration order in its messages
("type must be one of the following values: BUY, DIVIDEND, ..."), and clients may show them.
Sources: ``prisma/schema.prisma``, ``libs/common/src/lib/config.ts``.
"""

from __future__ import annotations

ACTIVITY_TYPES = ("BUY", "DIVIDEND", "FEE", "INTEREST", "LIABILITY", "SELL")
INVESTMENT_ACTIVITY_TYPES = frozenset({"BUY", "DIVIDEND", "SELL"})
# FEE, INTEREST and LIABILITY: no market symbol; Ghostfolio files them under a MANUAL asset profile.
NON_INVESTMENT_ACTIVITY_TYPES = frozenset(t for t in ACTIVITY_TYPES if t not in INVESTMENT_ACTIVITY_TYPES)

DATA_SOURCES = (
    "ALPHA_VANTAGE",
    "COINGECKO",
    "EOD_HISTORICAL_DATA",
    "FINANCIAL_MODELING_PREP",
    "GHOSTFOLIO",
    "GOOGLE_SHEETS",
    "MANUAL",
    "RAPID_API",
    "YAHOO",
)
# DATA_SOURCES of a default self-hosted instance (configuration.service.ts); the others fail the import with
# 'activities.N.dataSource ("X") is not valid' although the DTO accepts them.
ENABLED_DATA_SOURCES = ("COINGECKO", "MANUAL", "YAHOO")
DATA_SOURCE_IMPORT = "YAHOO"

ASSET_CLASSES = ("ALTERNATIVE_INVESTMENT", "COMMODITY", "EQUITY", "FIXED_INCOME", "LIQUIDITY", "REAL_ESTATE")
ASSET_SUB_CLASSES = (
    "BOND",
    "CASH",
    "COLLECTIBLE",
    "COMMODITY",
    "CRYPTOCURRENCY",
    "ETF",
    "LOAN",
    "MUTUALFUND",
    "PRECIOUS_METAL",
    "PRIVATE_EQUITY",
    "STOCK",
)

ROLES = ("ADMIN", "DEMO", "USER")

# Prisma's OrderScalarFieldEnum: the columns GET /api/v1/activities may sort by.
ORDER_SCALAR_FIELDS = (
    "accountId",
    "accountUserId",
    "comment",
    "createdAt",
    "currency",
    "date",
    "fee",
    "id",
    "quantity",
    "symbolProfileId",
    "type",
    "unitPrice",
    "updatedAt",
    "userId",
)

DATE_RANGES = ("1d", "1y", "5y", "max", "mtd", "wtd", "ytd")
HOLDING_TYPES = ("ACTIVE", "CLOSED")

GHOSTFOLIO_PREFIX = "GF"
DEFAULT_CURRENCY = "USD"

TAG_ID_DRAFT = "0c077abd-eca2-4cbb-818c-6cefbf2d169a"
TAG_ID_EMERGENCY_FUND = "4452656d-9fa4-4bd0-ba38-70492e31d180"
TAG_ID_EXCLUDE_FROM_ANALYSIS = "f2e868af-8333-459f-b161-cbc6544c24bd"
# The tags every instance has (prisma/seed.mts and migrations); user tags come on top.
SYSTEM_TAGS = {
    TAG_ID_DRAFT: "DRAFT",
    TAG_ID_EMERGENCY_FUND: "EMERGENCY_FUND",
    TAG_ID_EXCLUDE_FROM_ANALYSIS: "EXCLUDE_FROM_ANALYSIS",
}

# The permissions this emulator checks, per role (libs/common/src/lib/permissions.ts).
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "ADMIN": frozenset(
        {
            "createAccount",
            "createAccountBalance",
            "createActivity",
            "createOwnTag",
            "createPlatform",
            "deleteAccount",
            "deleteAccountBalance",
            "deleteActivity",
            "updateAccount",
            "updateActivity",
        }
    ),
    "DEMO": frozenset(),
    "USER": frozenset(
        {
            "createAccount",
            "createAccountBalance",
            "createActivity",
            "createOwnTag",
            "deleteAccount",
            "deleteAccountBalance",
            "deleteActivity",
            "updateAccount",
            "updateActivity",
        }
    ),
}
