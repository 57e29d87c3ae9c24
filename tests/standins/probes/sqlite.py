"""Create, fill and query an in-memory SQLite database with parameters; print the row and version."""

import sqlite3

db = sqlite3.connect(":memory:", detect_types=sqlite3.PARSE_DECLTYPES, isolation_level=None)
db.execute("CREATE TABLE t (id INTEGER, label TEXT, seen TIMESTAMP)")
db.executemany("INSERT INTO t VALUES (?, ?, ?)", [(1, "one", None), (2, "two", None)])
print(db.execute("SELECT label FROM t WHERE id = ?", (2,)).fetchall(), sqlite3.sqlite_version)
db.close()
