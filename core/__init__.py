"""Agendum's core domain. Plugins import `hookimpl` from here."""

from core.plugins.hookspecs import hookimpl

__all__ = ["hookimpl"]
