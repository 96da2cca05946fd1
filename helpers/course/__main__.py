"""The teacher's commands (behind `make student` and `make grade`).

    python -m helpers.course student [--earlier reference|own] [--course build/course]
    python -m helpers.course grade SUBMISSIONS [--course build/course]
    python -m helpers.course leaks [--course build/course]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from helpers.course import bundle, grade, leaks, link

DEFAULT_COURSE = bundle.REPO_ROOT / "build" / "course"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.course", description=__doc__.splitlines()[0])
    parser.add_argument("--course", type=Path, default=DEFAULT_COURSE, help="the nbgrader course directory")
    commands = parser.add_subparsers(dest="command", required=True)
    student = commands.add_parser("student", help="build the course directory and release every assignment")
    student.add_argument("--earlier", choices=link.EARLIER_CHOICES, default="reference",
                         help="earlier assignments' exercises: the released reference code or the student's own")
    graded = commands.add_parser("grade", help="autograde dir/<student>/<assignment>/<assignment>.ipynb")
    graded.add_argument("submissions", type=Path)
    commands.add_parser("leaks", help="scan the released assignments for solution text")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    if args.command == "student":
        built = bundle.build(args.course, args.earlier)
        for assignment in built:
            print(f"{args.course / 'release' / assignment}")
        found = leaks.scan_course(args.course)
        for leak in found:
            print(f"LEAK {leak}")
        print(f"{len(built)} assignments released (earlier exercises: {args.earlier}), leak scan: "
              f"{len(found)} leak(s), in {time.perf_counter() - start:.0f} s")
        return 1 if found else 0
    if args.command == "grade":
        report = grade.grade(args.submissions, args.course)
        print(report.table(bundle.assignments()))
        for line in report.lines():
            print(line)
        print(f"grades: {report.csv}; feedback: {args.course / 'feedback'}; "
              f"{len(report.scores)} graded, {len(report.problems)} problem(s), in {time.perf_counter() - start:.0f} s")
        return 1 if report.problems else 0
    found = leaks.scan_course(args.course)
    for leak in found:
        print(f"LEAK {leak}")
    print(f"leak scan: {len(found)} leak(s)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
