"""What a GraphQL document would cost once its fragments are expanded, measured without expanding them.

Several validation rules walk a document with every fragment spread replaced by the fragment, so their work grows
with the *expanded* size, and fragments make that exponential in the document's length: twenty fragments that
each spread the next one twice expand to a million fields. Here each fragment is measured once and its cost reused
at every spread (memoised), so measuring is linear in the document; a fragment cycle, which has no finite
expansion, is reported instead of followed. Every walk uses an explicit stack: nothing here recurses, however deep
the document nests.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    SKIP,
    ArgumentNode,
    DocumentNode,
    ExecutableDefinitionNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    ListValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    SelectionNode,
    SelectionSetNode,
    ValueNode,
    VariableDefinitionNode,
    Visitor,
    VisitorAction,
    visit,
)


@dataclass(frozen=True)
class Cost:
    selections: int = 0
    """Fields, inline fragments and fragment spreads, every spread expanded."""
    aliases: int = 0
    depth: int = 0
    """Fields on the longest path; an introspection field (``__schema``, ``__typename``) and all below it count 0."""
    nesting: int = 0
    """Fields on the longest path, introspection fields included."""

    def beside(self, other: Cost) -> Cost:
        """Two parts of one selection set: their sizes add up, their depths do not."""
        return Cost(
            self.selections + other.selections,
            self.aliases + other.aliases,
            max(self.depth, other.depth),
            max(self.nesting, other.nesting),
        )


EMPTY = Cost()
SPREAD = Cost(selections=1)


class FragmentCycle(Exception):
    """A fragment spreads itself, directly or through others; ``path`` starts and ends with it."""

    def __init__(self, path: tuple[str, ...]) -> None:
        super().__init__(" -> ".join(path))
        self.path = path


def measure(document: DocumentNode) -> Cost:
    """The expanded cost of every executable definition, summed, since every one of them is validated.

    Aliases and depth are taken from operations only: a fragment's count where it is spread (and whether it sits
    under an introspection field is known only there). Raises :class:`FragmentCycle`.
    A spread of an unknown fragment costs one selection: validation reports it.
    """
    fragments = fragment_definitions(document)
    costs = fragment_costs(fragments)
    total = EMPTY
    for definition in executable_definitions(document):
        cost = _fold(definition.selection_set, costs)
        if isinstance(definition, FragmentDefinitionNode):
            cost = Cost(cost.selections, 0, 0, cost.nesting)
        total = total.beside(cost)
    return total


@dataclass(frozen=True)
class Repeat:
    response_name: str = ""
    count: int = 0


def most_repeated(document: DocumentNode) -> Repeat:
    """The response name answered by most fields in one selection set, its fragments and inline fragments merged.

    Those are the fields graphql-core's OverlappingFieldsCanBeMergedRule compares pairwise (and their
    sub-selections with each other, recursively). This walk expands every spread: call it only on a document that
    :func:`measure` found free of cycles and small.
    """
    fragments = fragment_definitions(document)
    worst = Repeat()
    for definition in executable_definitions(document):
        merged: list[list[SelectionSetNode]] = [[definition.selection_set]]
        while merged:
            by_name: dict[str, list[SelectionSetNode | None]] = {}
            pending = merged.pop()
            while pending:
                for selection in pending.pop().selections:
                    if isinstance(selection, FieldNode):
                        name = (selection.alias or selection.name).value
                        by_name.setdefault(name, []).append(selection.selection_set)
                    elif isinstance(selection, InlineFragmentNode):
                        pending.append(selection.selection_set)
                    elif isinstance(selection, FragmentSpreadNode) and selection.name.value in fragments:
                        pending.append(fragments[selection.name.value].selection_set)
            for name, children in by_name.items():
                if len(children) > worst.count:
                    worst = Repeat(name, len(children))
                below = [child for child in children if child is not None]
                if below:
                    merged.append(below)
    return worst


def largest_value(document: DocumentNode) -> int:
    """Nodes in the largest argument value or variable default written in the document.

    graphql-core's ValuesOfCorrectTypeRule prints the enclosing literal into the error about each wrong part of it,
    so a literal with many wrong parts costs its size times their number.
    """
    finder = _LargestValue()
    visit(document, finder)
    return finder.largest


class _LargestValue(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.largest = 0

    def enter_argument(self, node: ArgumentNode, *_: Any) -> VisitorAction:
        self.largest = max(self.largest, value_size(node.value))
        return SKIP

    def enter_variable_definition(self, node: VariableDefinitionNode, *_: Any) -> VisitorAction:
        if node.default_value is not None:
            self.largest = max(self.largest, value_size(node.default_value))
        return None


def value_size(value: ValueNode) -> int:
    """Values and object fields in a literal, nested ones included."""
    size = 0
    pending = [value]
    while pending:
        node = pending.pop()
        size += 1
        if isinstance(node, ListValueNode):
            pending.extend(node.values)
        elif isinstance(node, ObjectValueNode):
            size += len(node.fields)
            pending.extend(field.value for field in node.fields)
    return size


def executable_definitions(document: DocumentNode) -> Iterator[ExecutableDefinitionNode]:
    """Operations and fragments; type definitions in a request are left to validation to refuse."""
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode | FragmentDefinitionNode):
            yield definition


def fragment_definitions(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}


def fragment_costs(fragments: Mapping[str, FragmentDefinitionNode]) -> dict[str, Cost]:
    """Each fragment's expanded cost, a fragment measured only after every fragment it spreads (depth first)."""
    spreads = {name: spread_names(fragment.selection_set) for name, fragment in fragments.items()}
    costs: dict[str, Cost] = {}
    for root in fragments:
        if root in costs:
            continue
        path = [root]
        on_path = {root}
        next_spreads = [iter(spreads[root])]
        while path:
            name = next(next_spreads[-1], None)
            if name is None:
                done = path.pop()
                next_spreads.pop()
                on_path.discard(done)
                costs[done] = _fold(fragments[done].selection_set, costs)
            elif name in on_path:
                raise FragmentCycle((*path[path.index(name) :], name))
            elif name in fragments and name not in costs:
                path.append(name)
                on_path.add(name)
                next_spreads.append(iter(spreads[name]))
    return costs


def spread_names(selection_set: SelectionSetNode) -> list[str]:
    """The fragments a selection set spreads directly (at any depth, not through other fragments)."""
    names: list[str] = []
    pending = [selection_set]
    while pending:
        for selection in pending.pop().selections:
            if isinstance(selection, FragmentSpreadNode):
                names.append(selection.name.value)
            elif isinstance(selection, FieldNode | InlineFragmentNode) and selection.selection_set is not None:
                pending.append(selection.selection_set)
    return names


@dataclass
class _Frame:
    """A selection set being summed; ``owner`` is the field or inline fragment that holds it (None at the top)."""

    selection_set: SelectionSetNode
    owner: FieldNode | InlineFragmentNode | None
    cost: Cost = EMPTY
    pending: Iterator[SelectionNode] = field(init=False)

    def __post_init__(self) -> None:
        self.pending = iter(self.selection_set.selections)


def _fold(selection_set: SelectionSetNode, fragments: Mapping[str, Cost]) -> Cost:
    """The cost of a selection set, given the cost of every fragment it may spread."""
    frames = [_Frame(selection_set, None)]
    while True:
        frame = frames[-1]
        selection = next(frame.pending, None)
        if selection is None:
            frames.pop()
            cost = _held_by(frame.owner, frame.cost)
            if not frames:
                return cost
            frames[-1].cost = frames[-1].cost.beside(cost)
        elif isinstance(selection, FragmentSpreadNode):
            frame.cost = frame.cost.beside(SPREAD.beside(fragments.get(selection.name.value, EMPTY)))
        elif isinstance(selection, FieldNode | InlineFragmentNode) and selection.selection_set is not None:
            frames.append(_Frame(selection.selection_set, selection))
        elif isinstance(selection, FieldNode | InlineFragmentNode):
            frame.cost = frame.cost.beside(_held_by(selection, EMPTY))


def _held_by(owner: FieldNode | InlineFragmentNode | None, inner: Cost) -> Cost:
    if owner is None:
        return inner
    if isinstance(owner, InlineFragmentNode):
        return Cost(inner.selections + 1, inner.aliases, inner.depth, inner.nesting)
    introspection = owner.name.value.startswith("__")
    return Cost(
        selections=inner.selections + 1,
        aliases=inner.aliases + (1 if owner.alias else 0),
        depth=0 if introspection else inner.depth + 1,
        nesting=inner.nesting + 1,
    )
