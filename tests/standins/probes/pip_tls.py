"""Install requests from PyPI with pip, then fetch the page pip read, verified, with requests.

TLS to PyPI passes a proxy whose CA only the image's bundle has (README, "Without Docker Hub"), so
requests is pointed at that bundle; the address is the one pip's own default index names.
"""

import os
import subprocess
import sys

subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-cache-dir", "requests"], check=True)

import requests  # noqa: E402 (installed just above)
from pip._internal.models.index import PyPI  # noqa: E402

answer = requests.get(f"{PyPI.simple_url}/requests/", verify=os.environ["PIP_CERT"], timeout=30)
print("requests", requests.__version__, "got", answer.status_code)
