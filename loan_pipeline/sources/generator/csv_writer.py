"""Writing the extracts: columns of text joined into CSV lines by Arrow, quoted only where CSV needs
it, and each file written to a temp file and renamed into place.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO, Callable, Iterable, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from loan_pipeline.files import atomic_open

CHUNK_ROWS = 500_000  # rows formatted per write

Columns = dict[str, "np.ndarray | pa.Array"]


def atomic_write(path: Path, write: Callable[[IO[bytes]], int]) -> int:
    with atomic_open(path) as fh:
        return write(fh)


def _csv_field(values: "np.ndarray | pa.Array") -> pa.Array:
    """Text of one column, quoted only where CSV needs it (the extract quotes Type_of_Loan lists)."""
    values = values if isinstance(values, pa.Array) else pa.array(values)
    text = values.cast(pa.string())
    if not pa.types.is_string(values.type):
        return text  # numbers never need quotes
    needs = pc.match_substring_regex(text, r'[",\r\n]')
    if not pc.any(needs).as_py():
        return text
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(text, '"', '""'), '"', "")
    return pc.if_else(needs, quoted, text)


def write_csv(fh: IO[bytes], header: Sequence[str], blocks: Iterable[Columns]) -> int:
    """Header, then each block of columns as CSV lines; returns rows written.

    Lines are joined by Arrow, and the joined strings sit back to back in one buffer, so a block is
    written with one call, in CHUNK_ROWS slices (keeps 32-bit string offsets and memory in bounds).
    """
    fh.write((",".join(header) + "\n").encode())
    rows = 0
    for block in blocks:
        assert tuple(block) == tuple(header), f"columns {tuple(block)} != header {tuple(header)}"
        size = len(next(iter(block.values())))
        for lo in range(0, size, CHUNK_ROWS):
            fields = [_csv_field(v[lo : lo + CHUNK_ROWS]) for v in block.values()]
            fields[-1] = pc.binary_join_element_wise(fields[-1], "\n", "")  # line end on the short last field
            lines = pc.binary_join_element_wise(*fields, ",")
            offsets = np.frombuffer(lines.buffers()[1], np.int32, len(lines) + 1, lines.offset * 4)
            fh.write(memoryview(lines.buffers()[2])[offsets[0] : offsets[-1]])
            rows += len(lines)
    return rows
