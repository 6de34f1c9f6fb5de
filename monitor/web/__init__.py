"""EDGE: the analysts' console: pages and the JSON API over the store."""
