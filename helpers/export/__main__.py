"""Export notebooks to PDF (behind `make pdf`).

    python -m helpers.export [--run [--quick]] [--author 'NAME[; NAME ...]'] [--out build/pdf] NOTEBOOK ...

Without --run a notebook is exported as saved; with --run it is executed first (full mode unless
--quick). Exits 2 with one line naming the packages to install when XeLaTeX or pandoc is missing.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from nbclient.exceptions import CellExecutionError
from nbconvert.exporters.pdf import LatexFailed

from helpers import validate
from helpers.export.pdf import checked_authors, export_pdf, missing_tools, missing_tools_message


def main(argv: list[str] | None = None) -> int:
    """Export the notebooks named in `argv` (None: the command line); 0 when every PDF was written."""
    if argv is not None and not (isinstance(argv, list) and all(isinstance(a, str) for a in argv)):
        validate.fail("argv", "a list of str or None (the command line)", argv, TypeError)
    parser = argparse.ArgumentParser(prog="python -m helpers.export",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, default=Path("build/pdf"), help="folder for the PDFs")
    parser.add_argument("--run", action="store_true", help="execute each notebook before export")
    parser.add_argument("--quick", action="store_true", help="with --run: quick mode")
    parser.add_argument("--author", action="append", default=[],
                        help="author name(s) for title and file name; separate several with ';'")
    args = parser.parse_args(argv)
    missing = [str(path) for path in args.notebooks if not path.is_file()]
    if missing:
        parser.error(f"no such notebook: {', '.join(missing)}")
    authors = [name.strip() for names in args.author for name in names.split(";") if name.strip()]
    try:
        checked_authors(authors, "--author")
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    tools = missing_tools()
    if tools:
        print(f"error: {missing_tools_message(tools)}", file=sys.stderr)
        return 2
    failed = []
    for path in args.notebooks:
        start = time.perf_counter()
        try:
            result = export_pdf(path, args.out, authors=authors, run=args.run, quick=args.quick)
        except (CellExecutionError, LatexFailed, ValueError) as error:  # report it, export the other notebooks
            print(f"error: {path}: {error}", file=sys.stderr)
            failed.append(str(path))
            continue
        print(f"{result.pdf}: {time.perf_counter() - start:.0f} s")
        for character in result.missing_characters:
            print(f"warning: {path.name}: XeLaTeX has no glyph for {character}", file=sys.stderr)
    if failed:
        print(f"error: no PDF for {', '.join(failed)} (see above)", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
