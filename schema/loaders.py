"""DataLoaders: every relation a query walks costs one query per batch, not one per object."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable
from typing import Any

from strawberry.dataloader import DataLoader
from tortoise.models import Model


class Loaders:
    """Per-request loaders, created on first use and keyed by what they load."""

    def __init__(self) -> None:
        self._loaders: dict[Hashable, DataLoader] = {}

    def _get(self, key: Hashable, load_fn) -> DataLoader:
        loader = self._loaders.get(key)
        if loader is None:
            loader = self._loaders[key] = DataLoader(load_fn=load_fn)
        return loader

    def of(self, key: Hashable, load_fn) -> DataLoader:
        """A loader of the caller's own (`load_fn` takes a batch of keys), made once per request
        under `key`."""
        return self._get(("of", key), load_fn)

    def by_id(self, model: type[Model]) -> DataLoader:
        """Rows of `model` by primary key (None for a missing one)."""

        async def load(ids: list[int]) -> list[Any]:
            rows = {row.pk: row for row in await model.filter(pk__in=list(set(ids)))}
            return [rows.get(i) for i in ids]

        return self._get(("by_id", model), load)

    def children(
        self, model: type[Model], parent_field: str, order: tuple[str, ...] = ("id",), **filters: Any
    ) -> DataLoader:
        """Lists of `model` rows grouped by the value of `parent_field` (a foreign key id)."""

        async def load(parent_ids: list[int]) -> list[list[Any]]:
            grouped: dict[int, list[Any]] = defaultdict(list)
            query = model.filter(**{f"{parent_field}__in": list(set(parent_ids))}, **filters).order_by(*order)
            for row in await query:
                grouped[getattr(row, parent_field)].append(row)
            return [grouped.get(i, []) for i in parent_ids]

        key = ("children", model, parent_field, order, tuple(sorted(filters.items())))
        return self._get(key, load)

    def related(self, model: type[Model], relation: str, order: tuple[str, ...] = ("id",)) -> DataLoader:
        """Lists of rows across a many-to-many `relation` of `model`, by the owner's id."""

        async def load(owner_ids: list[int]) -> list[list[Any]]:
            owners = await model.filter(pk__in=list(set(owner_ids))).prefetch_related(relation)
            by_id = {
                owner.pk: sorted(getattr(owner, relation), key=lambda r: tuple(getattr(r, f) for f in order))
                for owner in owners
            }
            return [by_id.get(i, []) for i in owner_ids]

        return self._get(("related", model, relation, order), load)
