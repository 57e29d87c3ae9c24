#!/usr/bin/env python3
"""Run the apl stack (MySQL + the Flask app on the apl-net network) with the Docker SDK.

python orchestrate.py up        # create or update, then wait until http://localhost:8080 answers
python orchestrate.py --help    # every command and setting
"""

import sys

from stack.cli import main

if __name__ == "__main__":
    sys.exit(main())
