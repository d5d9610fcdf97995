"""feeds: pulls upstream feeds, merges them with local articles, publishes them."""

__version__ = "0.1.0"
