"""GraphiQL served by the service itself (no CDN): the page and its vendored assets."""

from __future__ import annotations

from starlette.routing import BaseRoute

ASSETS_PATH = "/graphiql-assets"


def render_page() -> str:
    """The GraphiQL HTML page for GET /graphql in a browser."""
    raise NotImplementedError


def asset_routes() -> list[BaseRoute]:
    """Routes that serve the vendored GraphiQL files under ``ASSETS_PATH``."""
    return []
