"""Add compiled bytecode to the Lambda archive that ``chalice package`` wrote.

Lambda's code directory is read-only, so Python cannot cache the bytecode it compiles: an
archive of ``.py`` files alone is compiled again on every cold start, botocore included.
This compiles every module in the archive once, at packaging time, with the Python that
packages (``make package`` insists on the runtime's version, 3.13), and stores the ``.pyc``
files beside their sources. They are written with ``unchecked-hash`` invalidation: the
interpreter uses them without comparing timestamps, which a zip's fixed dates would break.

Usage: ``python infra/compile_package.py build/package/deployment.zip``
"""

from __future__ import annotations

import compileall
import py_compile
import sys
import tempfile
import zipfile
from pathlib import Path

# The date Chalice gives every entry, so the archive stays the same for the same code.
FIXED_DATE = (1980, 1, 1, 0, 0, 0)


def compile_archive(archive: Path) -> int:
    """Rewrite ``archive`` with a ``.pyc`` for each module; how many it now holds."""
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        with zipfile.ZipFile(archive) as source:
            source.extractall(root)
            modes = {info.filename: info.external_attr for info in source.infolist()}
        compileall.compile_dir(
            root,
            quiet=1,
            ddir="/var/task",
            invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
            workers=1,
        )
        files = sorted(path for path in root.rglob("*") if path.is_file())
        with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as target:
            for path in files:
                name = path.relative_to(root).as_posix()
                info = zipfile.ZipInfo(name, date_time=FIXED_DATE)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = modes.get(name, 0o644 << 16)
                target.writestr(info, path.read_bytes())
        return sum(1 for path in files if path.suffix == ".pyc")


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python infra/compile_package.py <deployment.zip>", file=sys.stderr)
        return 2
    count = compile_archive(Path(argv[1]))
    print(f"compiled {count} modules into {argv[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
