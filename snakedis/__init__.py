"""snakedis: a Redis-compatible in-memory data server in Python."""

from typing import Final

__version__: Final = "0.1.0"
# The Redis release whose behaviour snakedis matches; clients gate features on it.
# 7.4.0: the hash field expiry commands are 7.4's, and redis-py enables its client-side cache
# only for 7.4+; replies of commands 7.0 already had stay 7.0's.
REDIS_VERSION: Final = "7.4.0"
REDIS_VERSION_NUM: Final = 0x070400
