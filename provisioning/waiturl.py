"""``python -m provisioning.waiturl URL [SECONDS]``: wait until a loopback URL answers HTTP 200.

Used before starting the touchscreen's browser, so Chromium opens on the kiosk rather than on an
error page. Exit 0 once it answers, 1 after the time-out.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence

from provisioning.launch import url_check


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or len(args) > 2:
        print("usage: python -m provisioning.waiturl URL [SECONDS]", file=sys.stderr)
        return 2
    url, limit = args[0], float(args[1]) if len(args) == 2 else 180.0
    check = url_check(url)
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if check():
            return 0
        time.sleep(1.0)
    print(f"waiturl: {url} did not answer within {limit:.0f} s", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
