"""Errors raised by driftkit: one small hierarchy, messages that say how to fix."""

from __future__ import annotations


class DriftkitError(Exception):
    """Base class of every error driftkit raises on purpose."""


class ConfigError(DriftkitError):
    """A ``client.toml`` (or a command-line option) is wrong: file, key, found, allowed."""


class InputError(DriftkitError):
    """An export file cannot be read at all: file, what is wrong, how to fix it."""


class ReportError(DriftkitError):
    """An audit report could not be produced."""
