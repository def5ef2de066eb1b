"""How every command line here ends: its one-line outcome on stdout and exit 0, or
`error: <why>` on stderr and exit 2 for the failures a user can meet (bad arguments, a
missing warehouse), whose messages say what to change."""

from __future__ import annotations

import sys
from collections.abc import Callable


def finish(action: Callable[[], str], *expected: type[Exception]) -> int:
    try:
        outcome = action()
    except expected as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(outcome)
    return 0
