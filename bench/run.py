"""Run the benchmarks and print Markdown; `--write` refreshes their sections of BENCHMARKS.md.

    .venv/bin/python bench/run.py [sync|load|all] [--rounds N] [--warmup N] [--write]
    .venv/bin/python bench/run.py load [--phones 200] [--think 10] [--ramp 300 --ramp 30] [--write]

Each benchmark owns one section of /work/main/BENCHMARKS.md between `<!-- bench:NAME -->` and
`<!-- /bench:NAME -->`; `--write` replaces only the sections that ran and keeps the rest.
These are scripts, not timed tests: nothing here runs in CI.
"""
from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench import harness  # noqa: E402


def _sync(args) -> str:
    from bench import sync_push

    result = sync_push.run(rounds=args.rounds, warmup=args.warmup, profile=args.profile, only=args.only)
    return result.markdown(args.command)


def _load(args) -> str:
    from bench import load

    return load.markdown([load.run(plan, args.command) for plan in load.plans_of(args)])


def _reports(args) -> str:
    from bench import reports

    return reports.run(rounds=args.rounds, warmup=args.warmup, command=args.command)


BENCHMARKS = {"sync": _sync, "load": _load, "reports": _reports}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/run.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("which", nargs="?", default="all", choices=[*BENCHMARKS, "all"])
    parser.add_argument("--rounds", type=int, default=7, help="timed rounds per system (default 7)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed rounds first (default 1)")
    parser.add_argument("--write", action="store_true", help="update the section(s) of BENCHMARKS.md")
    parser.add_argument("--profile", choices=["auto", "always", "never"], default="auto",
                        help="cProfile one in-process push: auto = when fieldcrm/PouchDB is above 2x")
    parser.add_argument("--only", default=None,
                        help="restrict the fieldcrm set-ups, e.g. 'sqlite', 'http', 'postgresql/in-process'")
    from bench.load import add_arguments as load_arguments

    load_arguments(parser.add_argument_group("load (bench/load.py)"))
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.warmup < 0:
        parser.error("--rounds must be >= 1 and --warmup >= 0")
    shown = ["bench/run.py", *(argv if argv is not None else sys.argv[1:])]
    args.command = ".venv/bin/python " + " ".join(shlex.quote(a) for a in shown)

    names = list(BENCHMARKS) if args.which == "all" else [args.which]
    for name in names:
        section = BENCHMARKS[name](args)
        print(section)
        if args.write:
            harness.update_section(name, section)
            harness.log(f"updated the '{name}' section of {harness.BENCHMARKS_MD}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
