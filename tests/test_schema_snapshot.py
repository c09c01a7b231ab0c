"""The committed schema.graphql is the schema a default installation serves."""

from pathlib import Path

from app import printed_schema

SNAPSHOT = Path(__file__).resolve().parent.parent / "schema.graphql"


def test_committed_schema_is_current():
    assert SNAPSHOT.read_text() == printed_schema(), "schema.graphql is stale: run `make schema` and commit it"
