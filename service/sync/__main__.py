"""``python -m service.sync run|once|status``: the sync commands without loading every CLI module.

Same handlers as ``sohoa sync ...``; systemd uses this lean entry so a restart is quick.
"""

from __future__ import annotations

import argparse
import logging
import sys

from service.cli.cmd_sync import register
from service.domain.errors import SohoaError


def main(argv: list[str] | None = None) -> int:
    """Parse ``run|once|status`` and run the handler; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m service.sync")
    sub = parser.add_subparsers(dest="command")
    register(sub)
    args = parser.parse_args(["sync", *(sys.argv[1:] if argv is None else argv)])
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    try:
        return int(args.func(args))
    except SohoaError as exc:
        print(f"sohoa: error: {exc.message}", file=sys.stderr)
        if exc.remedy:
            print(f"sohoa: what to do: {exc.remedy}", file=sys.stderr)
        return int(exc.exit_code)


if __name__ == "__main__":
    sys.exit(main())
