"""moto's server on loopback as the AWS of the tests, with the template's tables and queues in it."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from moto.server import ThreadedMotoServer

from local import moto_fixes
from local.provision import StackResources, provision


@contextmanager
def moto_server() -> Iterator[str]:
    # werkzeug logs every request moto serves; the tests only want their own output.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    moto_fixes.apply()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def provision_stack(endpoint_url: str, stack_name: str) -> StackResources:
    return provision(endpoint_url, stack_name=stack_name)
