"""Print ``FAIL <fact> <seen> != <wanted>`` for each path or version that differs from python:3.11-slim's."""

import os
import platform
import sys
import sysconfig

FACTS = {
    "sys.prefix": (sys.prefix, "/usr/local"),
    "sys.executable": (sys.executable, "/usr/local/bin/python3"),
    "purelib": (sysconfig.get_path("purelib"), "/usr/local/lib/python3.11/site-packages"),
    "scripts": (sysconfig.get_path("scripts"), "/usr/local/bin"),
    "version": (sys.version_info[:2], (3, 11)),
    "$PYTHON_VERSION": (os.environ.get("PYTHON_VERSION"), platform.python_version()),
    "Python.h for builds": (os.path.isfile(os.path.join(sysconfig.get_path("include"), "Python.h")), True),
    "Python.h at the official path": (os.path.isfile("/usr/local/include/python3.11/Python.h"), True),
}
for name, (seen, wanted) in FACTS.items():
    if seen != wanted:
        print("FAIL", name, repr(seen), "!=", repr(wanted))
print("checked", len(FACTS))
