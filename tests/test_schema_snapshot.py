"""The committed schema.graphql is the schema the code builds."""

from pathlib import Path

from core.settings import Settings
from schema.build import build_schema

SNAPSHOT = Path(__file__).resolve().parent.parent / "schema.graphql"


def test_committed_schema_is_current():
    printed = build_schema(Settings()).as_str() + "\n"
    assert SNAPSHOT.read_text() == printed, "schema.graphql is stale: run `make schema` and commit it"
