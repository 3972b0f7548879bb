"""GraphiQL served by the service itself (vendored by ``scripts/vendor-graphiql``), so it works offline."""

from __future__ import annotations

import json
from pathlib import Path

from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

ASSETS_PATH = "/graphiql-assets"
GRAPHQL_PATH = "/graphql"
ASSETS_DIR = Path(__file__).parent / "static" / "graphiql"
EXAMPLE_QUERY = """# Welcome to ghostfolio-plaid.
# Every operation needs a token in the Headers tab below: get one with
#   ghostfolio-plaid token USER_ID      (the demo prints one when it starts)
{
  plaidItems {
    id
    institutionName
    status
    lastSyncedAt
    accounts { name balance currency }
  }
}

# Live updates run over a WebSocket: replace the query above with
#   subscription { plaidItemsChanged { id status error lastSyncedAt ghostfolio { status } } }
# or follow one sync with
#   subscription { syncJob(id: "<job id>") { status transactionsFetched transactionsTotal error } }
"""
HEADERS_HINT = {"Authorization": "Bearer <paste a token from: ghostfolio-plaid token USER_ID>"}


def render_page() -> str:
    """The GraphiQL page: local assets only, an example query and the header a newcomer needs."""
    return f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>ghostfolio-plaid GraphiQL</title>
  <style>html, body, #graphiql {{ height: 100%; margin: 0; }}</style>
  <link rel="stylesheet" href="{ASSETS_PATH}/graphiql.min.css">
  <script src="{ASSETS_PATH}/react.production.min.js"></script>
  <script src="{ASSETS_PATH}/react-dom.production.min.js"></script>
  <script src="{ASSETS_PATH}/graphiql.min.js"></script>
</head>
<body>
  <div id="graphiql">Loading GraphiQL...</div>
  <script>
    const socket = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "{GRAPHQL_PATH}";
    const fetcher = GraphiQL.createFetcher({{ url: "{GRAPHQL_PATH}", subscriptionUrl: socket }});
    ReactDOM.createRoot(document.getElementById("graphiql")).render(
      React.createElement(GraphiQL, {{
        fetcher,
        defaultQuery: {json.dumps(EXAMPLE_QUERY)},
        defaultHeaders: {json.dumps(json.dumps(HEADERS_HINT, indent=2))},
        defaultEditorToolsVisibility: "headers",
        isHeadersEditorEnabled: true,
        shouldPersistHeaders: true,
      }}),
    );
  </script>
</body>
</html>
"""


def asset_routes() -> list[BaseRoute]:
    """The vendored files under ``ASSETS_PATH``."""
    return [Mount(ASSETS_PATH, app=StaticFiles(directory=ASSETS_DIR))]
