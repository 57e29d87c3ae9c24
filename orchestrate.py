#!/usr/bin/env python3
"""Run the apl stack (MySQL + the Flask app on the apl-net network) with the Docker SDK.

python orchestrate.py up        # create or update, then wait until http://localhost:8080 answers
python orchestrate.py --help    # every command and setting
"""

import sys
from pathlib import Path

REQUIREMENTS = Path(__file__).resolve().parent / "requirements.txt"

try:
    from stack.cli import main
except ModuleNotFoundError as missing:
    if (missing.name or "").partition(".")[0] in ("stack", "app"):
        raise  # our own code is broken: that deserves the traceback
    sys.exit(f"error: Python package {missing.name!r} is missing; install: pip install -r {REQUIREMENTS}")
except KeyboardInterrupt:  # Ctrl-C in the few tenths of a second the imports take: as main says it
    print("interrupted", file=sys.stderr)
    sys.exit(130)

if __name__ == "__main__":
    sys.exit(main())
