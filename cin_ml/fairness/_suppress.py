"""Small-cell suppression with complementary suppression.

A group below the cell size is published without numbers. Because totals and the groups
of lower-order breakdowns are published too, a lone suppressed cell on a *line* (the groups
that differ only in one attribute, whose sum is a published margin) could be recovered by
subtraction; the smallest other cell on that line is then suppressed as well, until no line
holds exactly one suppressed cell.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

__all__ = ["suppression"]


def _lines(labels: tuple[tuple[str, ...], ...]) -> list[list[int]]:
    width = len(labels[0]) if labels else 0
    if width <= 1:
        return [list(range(len(labels)))]
    lines = []
    for pos in range(width):
        by_rest: dict[tuple[str, ...], list[int]] = defaultdict(list)
        for j, lab in enumerate(labels):
            by_rest[lab[:pos] + lab[pos + 1:]].append(j)
        lines.extend(by_rest.values())
    return lines


def suppression(labels: tuple[tuple[str, ...], ...], sizes: np.ndarray,
                attributes: tuple[str, ...], cell_size: int) -> dict[int, str]:
    """Map group index -> ``"small"`` or ``"complementary"`` for groups to publish blank."""
    hidden = {j: "small" for j, s in enumerate(sizes) if s < cell_size}
    if not hidden:
        return hidden
    lines = _lines(labels)
    changed = True
    while changed:
        changed = False
        for line in lines:
            if sum(j in hidden for j in line) != 1:
                continue
            others = [j for j in line if j not in hidden]
            if others:
                hidden[min(others, key=lambda j: (sizes[j], j))] = "complementary"
                changed = True
    return hidden
