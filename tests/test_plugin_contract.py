"""Meta-tests of the plugin contract (datasette's idea): every hookspec in core/plugins/hookspecs.py says
when it runs, is called by the host (location-scoped ones only through the gate), has a section
in docs/plugins.md and a test, and is implemented by the probe plugin."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import agendum_probe
import pytest

from core.plugins import hookspecs
from core.plugins.host import PluginHost

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "plugins.md"
TESTS = Path(__file__).resolve().parent
SPEC_MARK = f"{hookspecs.PROJECT}_spec"
IMPL_MARK = f"{hookspecs.PROJECT}_impl"
HOOKS = sorted(
    name for name, value in vars(hookspecs).items() if inspect.isfunction(value) and hasattr(value, SPEC_MARK)
)


def spec(name: str):
    return getattr(hookspecs, name)


def kind_of(name: str) -> str | None:
    """'Startup' or 'Location-scoped', as the last paragraph of the hook's docstring says."""
    last = (inspect.getdoc(spec(name)) or "").split("\n\n")[-1]
    found = re.findall(r"(?:^|\. )(Startup|Location-scoped)\b", last)
    return found[0] if len(set(found)) == 1 else None


def is_location_scoped(name: str) -> bool:
    return kind_of(name) == "Location-scoped"


def host_code() -> str:
    """The application's code that may call hooks: core (but the contract), schema, web, app."""
    files = [ROOT / "app.py", *(p for d in ("core", "schema", "web") for p in sorted((ROOT / d).rglob("*.py")))]
    return "\n".join(p.read_text() for p in files if p != ROOT / "core" / "hookspecs.py")


def guide_sections() -> dict[str, str]:
    """Text under each `##`/`###` heading of the guide, keyed by the heading."""
    sections, heading, lines = {}, None, []
    for line in GUIDE.read_text().splitlines():
        if re.match(r"#{2,3} ", line):
            if heading is not None:
                sections[heading] = "\n".join(lines)
            heading, lines = line.lstrip("#").strip(), []
        elif heading is not None:
            lines.append(line)
    if heading is not None:
        sections[heading] = "\n".join(lines)
    return sections


def section_of(name: str) -> str | None:
    found = [text for heading, text in guide_sections().items() if re.search(rf"\b{name}\b", heading)]
    return found[0] if found else None


def test_the_contract_has_hooks():
    assert len(HOOKS) >= 14, HOOKS
    assert "plugin_info" in HOOKS and "check_customer_action" in HOOKS


def test_hookimpl_is_importable_from_core():
    import core
    from core import hookimpl

    assert hookimpl is hookspecs.hookimpl and hookimpl.project_name == "agendum"
    assert "hookimpl" in core.__all__


@pytest.mark.parametrize("name", HOOKS)
def test_every_hookspec_has_a_docstring_saying_when_and_how(name):
    doc = inspect.getdoc(spec(name))
    assert doc and len(doc.split()) >= 6, f"{name} needs a docstring saying when it is called and what it returns"
    assert kind_of(name), f"{name}: the docstring's last paragraph must say either 'Startup' or 'Location-scoped'"
    options = getattr(spec(name), SPEC_MARK)
    if options.get("firstresult"):
        assert "first-result" in doc.lower() or "firstresult" in doc.lower(), f"{name} is firstresult: say so"
    else:
        assert "collected" in doc.lower(), f"{name}: say 'Collected' (and how results combine)"


@pytest.mark.parametrize("name", HOOKS)
def test_no_hook_that_may_be_async_is_firstresult(name):
    """pluggy is synchronous: a firstresult hook would stop at the first coroutine, unawaited."""
    returns = str(inspect.signature(spec(name)).return_annotation)
    assert not (getattr(spec(name), SPEC_MARK).get("firstresult") and "Awaitable" in returns), name


@pytest.mark.parametrize("name", HOOKS)
def test_every_hook_is_called_by_the_host_and_location_scoped_ones_only_through_the_gate(name):
    code = host_code()
    gated_call = re.search(rf"\.call(?:_isolated)?\(\s*[\"']{name}[\"']", code)
    direct_call = re.search(rf"\.hook\.{name}\b", code)
    if is_location_scoped(name):
        assert gated_call, f"{name} is location-scoped but the host never calls it through PluginHost.call"
        assert not direct_call, f"{name} is location-scoped but is called around the gate (pm.hook.{name})"
    else:
        assert gated_call is None, f"{name} is a startup hook but is called per location"
        assert direct_call or re.search(rf"[\"']{name}[\"']", code), (
            f"nothing in the host calls the startup hook {name}"
        )


@pytest.mark.parametrize("name", HOOKS)
def test_every_hook_has_a_section_in_the_guide(name):
    text = section_of(name)
    assert text is not None, f"docs/plugins.md needs a '### {name}' section"
    for parameter in inspect.signature(spec(name)).parameters:
        assert re.search(rf"\b{parameter}\b", text), f"the {name} section should show its argument {parameter!r}"
    kind = kind_of(name)
    assert kind in text, f"the {name} section should say it is {kind}"
    assert "collected" in text.lower(), f"the {name} section should say how results are combined"
    assert "@hookimpl" in text or f"def {name}" in text, f"the {name} section should show an example"


def test_the_guide_documents_no_hook_that_does_not_exist():
    reference = GUIDE.read_text().split("## Hook reference", 1)[1].split("\n## ", 1)[0]
    documented = re.findall(r"^### (\w+)", reference, re.M)
    assert documented == [name for name in documented if name in HOOKS], set(documented) - set(HOOKS)
    assert sorted(documented) == HOOKS


@pytest.mark.parametrize("name", HOOKS)
def test_every_hook_is_exercised_by_a_test(name):
    mentions = [
        p.name
        for p in TESTS.rglob("test_*.py")
        if p != Path(__file__).resolve() and re.search(rf"(?<![A-Za-z]){name}(?![A-Za-z])", p.read_text())
    ]
    assert mentions, f"no test module mentions the hook {name}"


@pytest.mark.parametrize("name", HOOKS)
def test_the_probe_plugin_implements_every_hook(name):
    implementation = getattr(agendum_probe, name, None)
    assert implementation is not None and hasattr(implementation, IMPL_MARK), (
        f"tests/fixture_plugins/agendum_probe lacks @hookimpl {name}"
    )
    host = PluginHost([agendum_probe])
    assert [impl.plugin_name for impl in getattr(host.pm.hook, name).get_hookimpls() if impl.plugin_name != "core"] == [
        "probe"
    ]
