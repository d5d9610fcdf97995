"""Shared fixtures. The loopback upstream server lives in tests/upstream.py."""

pytest_plugins = ["tests.upstream"]
