"""The ``sohoa`` command: subcommands are discovered from ``service/cli/cmd_*.py`` modules.

Each module exposes ``register(subparsers) -> None`` which adds its subcommand(s) and sets
``func=handler`` on the parser; a handler takes the parsed namespace and returns an exit code.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys
from collections.abc import Sequence

import service.cli as cli_pkg
from service.domain.errors import ExitCode, SohoaError

log = logging.getLogger("sohoa")


def build_parser() -> argparse.ArgumentParser:
    """The root argument parser with every discovered subcommand registered."""
    parser = argparse.ArgumentParser(prog="sohoa", description="sohoa-edge digitization station")
    parser.add_argument("--home", help="state directory (default: $SOHOA_HOME)")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for mod in sorted(pkgutil.iter_modules(cli_pkg.__path__), key=lambda m: m.name):
        if mod.name.startswith("cmd_"):
            module = importlib.import_module(f"service.cli.{mod.name}")
            module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``sohoa`` console script; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    if args.home:
        import os

        os.environ["SOHOA_HOME"] = args.home
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return int(ExitCode.USAGE)
    try:
        return int(args.func(args))
    except SohoaError as exc:
        print(f"sohoa: error: {exc.message}", file=sys.stderr)
        if exc.remedy:
            print(f"sohoa: what to do: {exc.remedy}", file=sys.stderr)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        print("sohoa: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
