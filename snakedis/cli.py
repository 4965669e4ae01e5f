"""``snakedis`` command line: the same arguments as ``redis-server``.

``snakedis [/path/to/redis.conf] [--name value ...] [-]``.  As in Redis, the options are
turned into config-file lines appended after the file's, so one parser and one set of error
messages serve both.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from typing import NoReturn

from snakedis import REDIS_VERSION, __version__
from snakedis.config import PARAMS, Config, ConfigError, parse_config_text

USAGE = """Usage: snakedis [/path/to/redis.conf] [options] [-]
       snakedis - (read config from stdin)
       snakedis -v or --version
       snakedis -h or --help

Examples:
       snakedis (run the server with default conf)
       echo 'maxmemory 128mb' | snakedis -
       snakedis /etc/myredis.conf
       snakedis --port 7777
       snakedis --port 7777 --replicaof 127.0.0.1 8888
       snakedis /etc/myredis.conf --loglevel verbose -
"""


def fatal_config(lineno: int, line: str, reason: str) -> NoReturn:
    sys.stderr.write(
        f"\n*** FATAL CONFIG FILE ERROR (Redis {REDIS_VERSION}) ***\n"
        f"Reading the configuration file, at line {lineno}\n>>> '{line}'\n{reason}\n"
    )
    sys.exit(1)


def _quote(arg: str) -> str:
    return '"' + arg.replace("\\", "\\\\").replace('"', '\\"') + '"'


def options_to_config(argv: list[str]) -> str:
    """``--port 7000 --save ''`` -> ``port "7000"\\nsave ""`` (Redis's main())."""
    lines: list[str] = []
    current: list[str] | None = None
    for arg in argv:
        if arg.startswith("--") and len(arg) > 2:
            if current is not None:
                lines.append(" ".join(current))
            current = [arg[2:]]
        elif current is not None:
            current.append(_quote(arg))
    if current is not None:
        lines.append(" ".join(current))
    return "\n".join(lines)


def build_config(argv: list[str]) -> Config:
    config = Config()
    text = ""
    if argv and not argv[0].startswith("-"):
        path = argv.pop(0)
        try:
            with open(path, encoding="utf-8", errors="surrogateescape") as f:
                text = f.read()
        except OSError as e:
            sys.stderr.write(f"Fatal error, can't open config file '{os.path.abspath(path)}': {e.strerror}\n")
            sys.exit(1)
        config.config_file = os.path.abspath(path)
    if argv and argv[-1] == "-":
        argv.pop()
        text += "\n" + sys.stdin.read()
    text += "\n" + options_to_config(argv)
    apply_config_text(config, text)
    return config


def apply_config_text(config: Config, text: str) -> None:
    raw_lines = text.split("\n")
    try:
        directives = parse_config_text(text)
    except ConfigError as e:
        fatal_config(0, "", str(e))
    # Map each directive back to its line for error messages.
    numbered = [
        (i + 1, text.strip()) for i, text in enumerate(raw_lines) if text.strip() and not text.strip().startswith("#")
    ]
    seen_save = False
    for (name, args), (lineno, line) in zip(directives, numbered, strict=False):
        canon = config.canonical(name)
        if canon == "include":
            for path in args:
                with open(path, encoding="utf-8") as f:
                    apply_config_text(config, f.read())
            continue
        if canon == "user":
            # ACL users are loaded once the server exists (snakedis.server.acl.load_at_startup).
            pending = config.__dict__.setdefault("acl_user_directives", [])
            pending.append([a.encode("utf-8", "surrogateescape") for a in args])
            continue
        if canon in ("rename-command", "loadmodule", "sentinel"):
            continue
        param = PARAMS.get(canon)
        if param is None or not args:
            fatal_config(lineno, line, "Bad directive or wrong number of arguments")
        if canon == "save":
            # Multiple save lines accumulate; the first resets the default.
            try:
                value = param.parse(" ".join(args))
            except ConfigError as e:
                fatal_config(lineno, line, str(e))
            if not seen_save:
                config.values["save"] = []
                seen_save = True
            config.values["save"] = config.values["save"] + value
            continue
        text_value = " ".join(args)
        try:
            _, value = config.parse_value(canon, text_value)
        except ConfigError as e:
            fatal_config(lineno, line, str(e))
        config.values[param.name] = value


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in ("-v", "--version"):
        print(f"snakedis v={__version__} redis_version={REDIS_VERSION} python={sys.version.split()[0]}")
        return
    if args and args[0] in ("-h", "--help"):
        print(USAGE)
        return
    config = build_config(args)
    run(config)


def run(config: Config) -> None:
    from snakedis.server.core import Server

    try:
        import uvloop

        uvloop.install()
        loop_name = "uvloop"
    except ImportError:
        loop_name = "asyncio"
    if config["dir"] and config["dir"] != ".":
        try:
            os.chdir(config["dir"])
        except OSError as e:
            sys.stderr.write(f"Can't chdir to '{config['dir']}': {e.strerror}\n")
            sys.exit(1)
    if config["pidfile"]:
        with open(config["pidfile"], "w") as f:
            f.write(f"{os.getpid()}\n")

    async def amain() -> None:
        server = Server(config)
        from snakedis.server.acl import load_at_startup

        acl_error = load_at_startup(server)
        if acl_error is not None:
            server.log(acl_error, "warning")
            sys.exit(1)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, server.request_shutdown)
        server.log(f"snakedis {__version__} starting on the {loop_name} event loop")
        from snakedis.persistence.aof import AofError
        from snakedis.persistence.rdbformat import RdbFormatError

        try:
            await server.serve_forever()
        except (AofError, RdbFormatError) as e:
            server.log(f"Fatal error loading the DB: {e}. Exiting.", "warning")
            sys.exit(1)
        except OSError as e:
            server.log(f"Warning: {e}", "warning")
            sys.exit(1)
        server.log("snakedis is now ready to exit, bye bye...", "warning")

    asyncio.run(amain())
    if config["pidfile"]:
        try:
            os.unlink(config["pidfile"])
        except OSError:
            pass
