"""Bounded reading of compressed formats (.docx, .xlsx, Parquet): refuse bombs before they inflate.

A zip member's size is declared twice (local header and central directory)
and either may lie. Python's ``zipfile`` never returns more bytes than the
central directory declares, so the declared total is checked first (cheap,
and refuses an honest bomb without inflating a byte); the bytes actually
inflated are then counted while streaming, so a lying archive is stopped at
the same limit.

Every member counts, whatever its name: a parser may follow the package's
``[Content_Types].xml`` or relationships to a part called anything
(``xl/ss.bin``), so a check limited to ``*.xml`` parts could be walked around.
:class:`BudgetedZipFile` hands a third-party parser (openpyxl) an archive
whose every read is charged to the same budget.
"""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Iterable
from typing import IO, Any

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

    def check_all(self) -> None:
        """Refuse the file if all its members together declare more than the limit.

        Raises:
            ReadError: ``skipped``, naming ``--max-inflated-mb``.
        """
        # infolist, not namelist: two entries may share a name (a crafted
        # archive) and each one can be read.
        total = sum(info.file_size for info in self.zf.infolist())
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
        # ZipFile.open, not self.zf.open: a BudgetedZipFile would charge twice.
        return io.BufferedReader(_Counted(zipfile.ZipFile.open(self.zf, name), self), buffer_size=1 << 16)

    def read(self, name: str) -> bytes:
        """Read a (small) member whole, counting its bytes."""
        with self.open(name) as fh:
            return fh.read()


class BudgetedZipFile(zipfile.ZipFile):
    """A read-only archive whose every member read is charged to one :class:`InflateBudget`.

    For parsers that take a ``ZipFile`` and open parts by themselves
    (openpyxl follows the package's content types to any part name): all
    they read, through ``open`` or ``read``, counts, so no part escapes the
    limit. The declared sizes of all members are checked on opening.

    Args:
        file: Path or binary file of the archive.
        limit: Most bytes all reads together may inflate to.
        what: The kind of file, for reasons ("Excel workbook").

    Raises:
        ReadError: ``skipped`` when the members declare more than ``limit``.
        zipfile.BadZipFile: When the file is not a zip archive.
    """

    def __init__(self, file: str | os.PathLike[str] | IO[bytes], limit: int, what: str) -> None:
        super().__init__(file, "r")
        self.budget = InflateBudget(self, limit, what)
        try:
            self.budget.check_all()
        except ReadError:
            self.close()
            raise

    def open(self, name: Any, mode: str = "r", pwd: bytes | None = None, *, force_zip64: bool = False) -> IO[bytes]:  # type: ignore[override]
        """Open a member; in read mode its bytes count against the budget."""
        raw = super().open(name, mode, pwd, force_zip64=force_zip64)
        if mode != "r":
            return raw
        return io.BufferedReader(_Counted(raw, self.budget), buffer_size=1 << 16)


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
