"""snakedis: a Redis-compatible in-memory data server in Python."""

from typing import Final

__version__: Final = "0.1.0"
# The Redis release whose behaviour snakedis matches; clients gate features on it.
REDIS_VERSION: Final = "7.2.4"
REDIS_VERSION_NUM: Final = 0x070204
