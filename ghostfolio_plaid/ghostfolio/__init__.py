"""The Ghostfolio connector: what a sync imported, delivered into a Ghostfolio instance through its own API."""
