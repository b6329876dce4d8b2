"""Helpers for tests and tutorials: gradient checks, a device-like test backend."""
