"""Agendum's core domain. Plugins import `hookimpl` from here."""

from core.hookspecs import hookimpl

__all__ = ["hookimpl"]
