"""As an unprivileged user: build and install a package offline, import it, and make a venv.

setuptools from the image builds the package; no index is asked. Prints what pip said, where
the package landed, and the venv's pip.
"""

import pathlib
import subprocess
import sys


def run(*command):
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


source = pathlib.Path("/tmp/demo")
(source / "demo").mkdir(parents=True)
(source / "demo" / "__init__.py").write_text("ANSWER = 42\n")
SETUP = "from setuptools import setup\nsetup(name='demo', version='1', packages=['demo'])\n"
(source / "setup.py").write_text(SETUP)
print(run(sys.executable, "-m", "pip", "install", "--no-index", "--no-build-isolation", str(source)))
print(run(sys.executable, "-c", "import demo; print(demo.ANSWER, demo.__file__)"))
run(sys.executable, "-m", "venv", "/tmp/venv")
print(run("/tmp/venv/bin/pip", "--version"))
