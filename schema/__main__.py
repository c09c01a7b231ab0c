"""Print the GraphQL schema (SDL): `python -m schema > schema.graphql`."""

from core.settings import Settings
from schema.build import build_schema

if __name__ == "__main__":
    print(build_schema(Settings()).as_str())
