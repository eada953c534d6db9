"""Bounded reading of compressed formats (.docx, .xlsx, Parquet): refuse bombs before they inflate.

A zip member's size is declared twice (local header and central directory)
and either may lie. Python's ``zipfile`` never returns more bytes than the
central directory declares, so the declared total is checked first (cheap,
and refuses an honest bomb without inflating a byte); the bytes actually
inflated are then counted while streaming, so a lying archive is stopped at
the same limit.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable
from typing import IO

from ._document import ReadError, fmt_size


def inflation_refused(what: str, size_text: str, limit: int) -> ReadError:
    """The ``skipped`` error for a file whose decompressed content is over ``limit`` bytes."""
    return ReadError(
        "skipped",
        f"{what} inflates to {size_text} when decompressed, "
        f"over the {fmt_size(limit, limit=True)} limit (--max-inflated-mb)",
    )


class InflateBudget:
    """How many decompressed bytes one file's zip members may still produce.

    Args:
        zf: The open archive.
        limit: Most bytes all members read through this budget may inflate to.
        what: The kind of file, for reasons ("Word document", "Excel workbook").
    """

    def __init__(self, zf: zipfile.ZipFile, limit: int, what: str) -> None:
        self.zf = zf
        self.limit = limit
        self.what = what
        self.used = 0

    def _refuse(self, size_text: str) -> ReadError:
        return inflation_refused(self.what, size_text, self.limit)

    def check_declared(self, names: Iterable[str]) -> None:
        """Refuse the file if the members' declared sizes already exceed the limit.

        Raises:
            ReadError: ``skipped``, naming ``--max-inflated-mb``.
        """
        total = 0
        for name in names:
            try:
                total += self.zf.getinfo(name).file_size
            except KeyError:
                continue
        if self.used + total > self.limit:
            raise self._refuse(fmt_size(self.used + total))

    def spend(self, n: int) -> None:
        """Count ``n`` inflated bytes.

        Raises:
            ReadError: ``skipped`` as soon as the total passes the limit.
        """
        self.used += n
        if self.used > self.limit:
            raise self._refuse("more than " + fmt_size(self.limit))

    def open(self, name: str) -> IO[bytes]:
        """Open a member as a binary stream whose every byte counts against the budget.

        Raises:
            KeyError: When the archive has no such member.
        """
        return io.BufferedReader(_Counted(self.zf.open(name), self), buffer_size=1 << 16)

    def read(self, name: str) -> bytes:
        """Read a (small) member whole, counting its bytes."""
        with self.open(name) as fh:
            return fh.read()


class _Counted(io.RawIOBase):
    """A raw stream over a zip member that charges each byte to a budget."""

    def __init__(self, raw: IO[bytes], budget: InflateBudget) -> None:
        self._raw = raw
        self._budget = budget

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self._raw.read(len(buffer))
        n = len(data)
        self._budget.spend(n)
        buffer[:n] = data
        return n

    def close(self) -> None:
        self._raw.close()
        super().close()
