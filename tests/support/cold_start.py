"""A new Lambda execution environment for every handler: their next invocation reads the environment again.

Each handler module keeps what it built on its first invocation (settings, stores, queue client) for as long
as the process lives, as a warm container does. A test that gives the functions another table or queue
calls `cold_start()` after changing the environment, as AWS would start new environments after a deploy.
"""

from __future__ import annotations

import api.app
import api.context
import fetcher.app
import importer.app
import worker.app


def cold_start() -> None:
    built = (api.app.runtime, api.app.picker, api.context.accounts, fetcher.app.runtime, worker.app.runtime)
    for built_once in (*built, importer.app.runtime):
        built_once.cache_clear()
