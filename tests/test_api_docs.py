"""Every GraphQL document in docs/api.md is valid against the schema a default installation
serves (schema.graphql), so the guide's examples cannot drift from the API."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from graphql import build_schema, parse, validate

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"```graphql\n(.*?)```", re.S)
DOCUMENTS = BLOCK.findall((ROOT / "docs" / "api.md").read_text())
SCHEMA = build_schema((ROOT / "schema.graphql").read_text())


def test_the_guide_has_graphql_examples():
    assert len(DOCUMENTS) >= 6


@pytest.mark.parametrize("document", DOCUMENTS, ids=[d.split("{")[0].strip() or "query" for d in DOCUMENTS])
def test_each_example_is_valid_against_the_schema(document):
    assert [error.message for error in validate(SCHEMA, parse(document))] == []
