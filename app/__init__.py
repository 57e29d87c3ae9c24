"""The apl web app: a connection test and a FIGlet message board on MySQL.

Gunicorn serves ``app:create_app()``; every setting comes from the environment (see
app/config.py), read once here.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import ConfigError, load_allowed_hosts, load_settings

if TYPE_CHECKING:
    from flask import Flask

__all__ = ["ConfigError", "create_app"]

LOADED = "apl: app loaded"
# Far above a 280-character message, far below anything that could tie up a worker.
MAX_CONTENT_LENGTH = 16 * 1024


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app; raise ConfigError, naming the variable, if the environment is unusable.

    :param test_config: overrides for tests; ``ENVIRON`` replaces os.environ as the source of
        the MYSQL_* and APL_ALLOWED_HOSTS settings, ``SCHEMA_FILE`` points at another schema.
    """
    # Imported here, as Flask's tutorial does, not at the top: gunicorn's master imports this
    # package (gunicorn.conf.py reads app.config), and workers forked from it would inherit what
    # it imported. Imported by each worker instead, a reload (SIGHUP, `orchestrate.py watch`)
    # serves the code now on disk.
    # Flask too: gunicorn's master reads app.config before it binds the port, and a replaced
    # container fails requests until then (gunicorn.conf.py imports Flask once it has bound).
    from flask import Flask

    from . import bodies, db, errors, health, hosts, messages, numbers, openapi, pages, security
    from .pagecache import PageCache
    from .schema import DEFAULT_SCHEMA_FILE, SchemaGuard

    app = Flask(__name__)
    app.config.from_mapping(MAX_CONTENT_LENGTH=MAX_CONTENT_LENGTH, SCHEMA_FILE=DEFAULT_SCHEMA_FILE)
    if test_config is not None:
        app.config.update(test_config)
    environ = app.config.get("ENVIRON", os.environ)
    app.config["DB_SETTINGS"] = load_settings(environ)
    app.config["ALLOWED_HOSTS"] = load_allowed_hosts(environ)
    # Korean stays readable in API answers, and rows keep the documented field order.
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]
    # Templates are indented for people reading them; the HTML sent needn't carry that.
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    db.init_app(app)
    app.extensions["apl.schema"] = SchemaGuard(Path(app.config["SCHEMA_FILE"]))
    app.extensions["apl.pages"] = PageCache()
    hosts.init_app(app)  # first: a request for another host meets nothing else of the app
    bodies.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    numbers.init_app(app)
    for blueprint in (pages.bp, messages.bp, health.bp, openapi.bp):
        app.register_blueprint(blueprint)
    # Compiled now, so a template that does not compile stops the worker from starting, as a Python
    # error does (and `up` keeps the app it had): met at the first page, it would be a 500 for each.
    for name in app.jinja_env.list_templates():
        app.jinja_env.get_template(name)
    # Under gunicorn this is a worker's sign that it can serve: `orchestrate.py watch` waits for it
    # before it stops the workers that run the previous code (stack/sync.py).
    logging.getLogger("gunicorn.error").info("%s (pid %d)", LOADED, os.getpid())
    return app
