"""A simulated X API v2: the endpoints random-likes uses, answering as X's OpenAPI spec says.

Start it in-process with `XSim(XSimConfig(...)).start()`, or standalone with `python -m local.xsim`.
Never imported by `src/`: the pipeline only ever sees it as an HTTP server at a base URL.
"""

from local.xsim.clock import ManualClock, ScaledClock, SimClock
from local.xsim.config import XSimConfig
from local.xsim.credentials import OAuth1Credentials, OAuth2Client
from local.xsim.sim import OAuth2Tokens, XSim

__all__ = [
    "ManualClock",
    "OAuth1Credentials",
    "OAuth2Client",
    "OAuth2Tokens",
    "ScaledClock",
    "SimClock",
    "XSim",
    "XSimConfig",
]
