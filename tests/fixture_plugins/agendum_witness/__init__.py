"""A test-only plugin that only watches committed changes (to show one failing plugin does not
stop another)."""

from core import hookimpl
from core.plugins.types import PluginInfo

seen: list[tuple[str, int]] = []


@hookimpl
def plugin_info():
    return PluginInfo(
        name="witness", title="Witness", description="Records committed changes (tests only).", version="1.0"
    )


@hookimpl
async def appointment_changed(change):
    seen.append((change.action, change.appointment.id))
