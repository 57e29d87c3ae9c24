"""Import and exercise each standard library module the official python:3.11 image builds.

Each probe uses its module, so one that imports but cannot work (a missing shared library, an
empty CA store) fails too. Prints ``FAIL <module> <why>`` per broken module, then the count.
"""

import importlib
import os
import tempfile
import warnings

warnings.simplefilter("ignore", DeprecationWarning)  # distutils and lib2to3 announce their removal
DATA = b"IT WORKS " * 8
TMP = tempfile.mkdtemp()


def module(name):
    return importlib.import_module(name)


def dbm_round_trip(kind):
    path = os.path.join(TMP, kind)
    with module("dbm." + kind).open(path, "c") as db:
        db[b"key"] = DATA
    with module("dbm." + kind).open(path, "r") as db:
        return db[b"key"] == DATA


def compression_round_trip(name):
    return module(name).decompress(module(name).compress(DATA)) == DATA


def ssl_has_cas():
    return module("ssl").create_default_context().cert_store_stats()["x509_ca"] > 0


def hashes():
    return {module("hashlib").new(name).name for name in ("sha3_256", "blake2b")} == {"sha3_256", "blake2b"}


def decimal_in_c():
    decimal = module("_decimal")
    return decimal.Decimal("1.1") * 2 == decimal.Decimal("2.2")


PROBES = {
    "curses and curses.panel": lambda: module("curses.panel").new_panel is not None,
    "readline (GNU, not libedit)": lambda: "libedit" not in module("readline").__doc__,
    "dbm.gnu": lambda: dbm_round_trip("gnu"),
    "dbm.ndbm": lambda: dbm_round_trip("ndbm"),
    "bz2": lambda: compression_round_trip("bz2"),
    "zlib": lambda: compression_round_trip("zlib"),
    "lzma": lambda: compression_round_trip("lzma"),
    "ctypes": lambda: module("ctypes").CDLL(None).getpid() == os.getpid(),
    "ssl with a CA store": ssl_has_cas,
    "hashlib sha3 and blake2": hashes,
    "uuid with _uuid": lambda: module("_uuid") is not None and module("uuid").uuid1().version == 1,
    "_decimal": decimal_in_c,
    "zoneinfo with tzdata": lambda: module("zoneinfo").ZoneInfo("Europe/Paris").key == "Europe/Paris",
    "xml.parsers.expat": lambda: module("xml.parsers.expat").ParserCreate() is not None,
    "unicodedata": lambda: module("unicodedata").name("A") == "LATIN CAPITAL LETTER A",
    "_multiprocessing": lambda: module("_multiprocessing") is not None,
    "venv and ensurepip": lambda: module("ensurepip").version() and module("venv") is not None,
    "distutils": lambda: module("distutils.sysconfig") is not None,
    "lib2to3": lambda: module("lib2to3.refactor") is not None,
}

for name, probe in PROBES.items():
    try:
        ok = probe()
    except Exception as error:  # any failure is a finding to print, not a crash of the probe
        ok = f"{type(error).__name__}: {error}"
    if ok is not True:
        print("FAIL", name, ok)
print("probed", len(PROBES))
