"""Maps and sets of a head that are an index file plus the changes made since.

A :class:`LayeredMap` answers from the keys set or deleted since the index was written,
else from the index (:class:`policyspeech.headindex.HeadIndex`), so that opening a head
of any size costs the same; whatever needs the whole map reads the file once into a dict.

>>> class Empty:  # an index with nothing in it
...     file = None
...     def get(self, view, key): return None
...     def present(self, view, keys): return set()
...     def count(self, view): return 0
...     def items(self, view): return []
...     def pending_ids(self, n): return []
>>> hashes = LayeredMap(Empty(), "hash")
>>> hashes["gb-2019-s-t-d323ac9d"] = "ab" * 32
>>> "gb-2019-s-t-d323ac9d" in hashes, len(hashes), hashes.get("another id")
(True, 1, None)
"""

from __future__ import annotations

from collections.abc import (
    ItemsView,
    Iterable,
    Iterator,
    MutableMapping,
    MutableSet,
    Sequence,
    ValuesView,
)
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    from policyspeech.indexfile import IndexFile
    from policyspeech.log import HeadState

V = TypeVar("V")
LAYERED_MAPS = ("hash_by_id", "key_by_id", "id_by_key", "retracted", "former")
"""The maps of a :class:`~policyspeech.log.HeadState` that an index holds."""


class Lookup(Protocol):
    """What the layers ask of an index (:class:`policyspeech.headindex.HeadIndex`)."""

    file: IndexFile | None
    """The open index file (None once the index fell back to dictionaries)."""

    def get(self, view: str, key: str) -> Any: ...
    def present(self, view: str, keys: set[str]) -> set[str]: ...
    def count(self, view: str) -> int: ...
    def items(self, view: str) -> Iterable[tuple[str, Any]]: ...
    def pending_ids(self, n: int) -> list[str]: ...


class LayeredMap(MutableMapping[str, V]):
    """A map of the head: a view of a :class:`HeadIndex`, with the keys set and deleted
    since its entry in memory. Iterates like the dictionary it stands for would (the
    entries of the index in their order, then the newer ones). Setting a key looks
    nothing up; whether it replaced one of the index is found out when the length is
    asked for."""

    def __init__(self, index: Lookup, view: str) -> None:
        self.source, self._view = index, view
        self.over: dict[str, V] = {}
        self.gone: set[str] = set()
        """Keys of the index deleted since."""
        self.replaced: set[str] = set()
        """Keys of ``over`` that the index has too (and that were not deleted)."""
        self._unsorted: set[str] = set()
        """Keys of ``over`` not yet known to be in ``replaced`` or not."""

    def _base(self, key: object) -> V | None:
        if not isinstance(key, str) or key in self.gone:
            return None
        value: V | None = self.source.get(self._view, key)
        return value

    def sort_out(self) -> None:
        if self._unsorted:
            self.replaced |= self.source.present(self._view, self._unsorted)
            self._unsorted.clear()

    def __getitem__(self, key: str) -> V:
        if key in self.over:
            return self.over[key]
        value = self._base(key)
        if value is None:
            raise KeyError(key)
        return value

    def get(self, key: str, default: Any = None) -> Any:
        if key in self.over:
            return self.over[key]
        value = self._base(key)
        return default if value is None else value

    def __contains__(self, key: object) -> bool:
        return key in self.over or self._base(key) is not None

    def __setitem__(self, key: str, value: V) -> None:
        if key not in self.over and key not in self.gone:
            self._unsorted.add(key)
        self.over[key] = value

    def __delitem__(self, key: str) -> None:
        if key in self.over:
            del self.over[key]
            if key in self._unsorted:
                self._unsorted.discard(key)
                if self._base(key) is not None:
                    self.gone.add(key)
            elif key in self.replaced:
                self.replaced.discard(key)
                self.gone.add(key)
            return
        if self._base(key) is None:
            raise KeyError(key)
        self.gone.add(key)

    def __len__(self) -> int:
        self.sort_out()
        return (self.source.count(self._view) - len(self.gone) + len(self.over)
                - len(self.replaced))

    def __iter__(self) -> Iterator[str]:
        return iter(self.copy())

    def items(self) -> ItemsView[str, V]:
        return self.copy().items()

    def values(self) -> ValuesView[V]:
        return self.copy().values()

    def copy(self) -> dict[str, V]:
        """A plain dictionary of the same items, in the same order (reads the whole index)."""
        items = self.source.items(self._view)
        gone = self.gone
        merged: dict[str, V] = {k: v for k, v in items if k not in gone} if gone else dict(items)
        merged.update(self.over)  # a replaced key keeps its place, as in a dictionary
        return merged

    def __repr__(self) -> str:
        return f"LayeredMap({self.copy()!r})"


class LayeredSet(MutableSet[str]):
    """A set of the head (the ids ever used): a view of a :class:`HeadIndex`, with the
    members added and removed since its entry in memory."""

    def __init__(self, index: Lookup, view: str) -> None:
        self.layer: LayeredMap[bool] = LayeredMap(index, view)

    def __contains__(self, item: object) -> bool:
        return item in self.layer

    def __iter__(self) -> Iterator[str]:
        return iter(self.layer)

    def __len__(self) -> int:
        return len(self.layer)

    def add(self, value: str) -> None:
        self.layer[value] = True

    def discard(self, value: str) -> None:
        self.layer.pop(value, None)

    def __repr__(self) -> str:
        return f"LayeredSet({set(self)!r})"


class LazyIds(Sequence[str]):
    """The ids of a pending change, read from the index when first needed."""

    def __init__(self, index: Lookup, n: int, count: int) -> None:
        self.source, self.number, self._count = index, n, count
        self._ids: list[str] | None = None

    def _list(self) -> list[str]:
        if self._ids is None:
            self._ids = self.source.pending_ids(self.number)
        return self._ids

    def __len__(self) -> int:
        return self._count if self._ids is None else len(self._ids)

    def __getitem__(self, item: Any) -> Any:
        return self._list()[item]

    def __iter__(self) -> Iterator[str]:
        return iter(self._list())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, LazyIds):
            other = other._list()
        return isinstance(other, list) and self._list() == other

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(self._list())


def layered_maps(state: HeadState) -> list[LayeredMap[Any]] | None:
    """The maps of ``state`` and the map of its ``ids_ever``, when all are layered on the
    same index."""
    maps = [getattr(state, name) for name in LAYERED_MAPS]
    ever = state.ids_ever
    if not (all(isinstance(m, LayeredMap) for m in maps) and isinstance(ever, LayeredSet)):
        return None
    layers: list[LayeredMap[Any]] = [*maps, ever.layer]
    if any(layer.source is not layers[0].source for layer in layers):
        return None
    return layers
