"""ACL commands: SETUSER, GETUSER, DELUSER, LIST, USERS, WHOAMI, CAT, GENPASS, LOG, DRYRUN,
SAVE, LOAD, HELP.

The state lives in ``server.extensions["acl"]`` (``snakedis.server.acl``); handlers only parse
arguments and shape replies.  Invariant: a failing ACL SETUSER changes nothing (the rules are
applied to a copy first), and the ``default`` user can be changed but never removed.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from snakedis.commands.args import parse_int
from snakedis.commands.table import ACL_CATEGORIES, CommandGroup
from snakedis.protocol.errors import CommandError, err, wrong_arity
from snakedis.protocol.resp import OK, SetReply
from snakedis.server.acl import Acl, Selector, has_spaces, merge_selector_args
from snakedis.server.acl import install as acl_install

if TYPE_CHECKING:
    from snakedis.server.connection import Client

GROUP = CommandGroup("acl")
command = GROUP.command

GROUP.container("acl", -2)

_ADMIN = "admin noscript loading stale"
_PLAIN = "noscript loading stale"

_NO_ACLFILE = (
    "ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the "
    "ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) "
    "in order to store users in the Redis configuration."
)


def _acl(client: Client) -> Acl:
    return acl_install(client.server)


def _subcommand_syntax(args: list[bytes]) -> CommandError:
    """addReplySubcommandSyntaxError: a known subcommand with the wrong number of arguments."""
    return err(f"unknown subcommand or wrong number of arguments for '{_text(args[1][:128])}'. Try ACL HELP.")


def _text(b: bytes) -> str:
    return b.decode("utf-8", "replace")


@command("acl|setuser", -3, _ADMIN)
def acl_setuser(client: Client, args: list[bytes]) -> Any:
    """ACL SETUSER username [rule ...] -> OK."""
    name = args[2]
    if has_spaces(name):
        raise err("Usernames can't contain spaces or null characters")
    merged, bad = merge_selector_args(args[3:])
    if merged is None:
        raise err(f"Unmatched parenthesis in acl selector starting at '{_text(args[3 + bad])}'.")
    _acl(client).set_user(name, merged, client)
    return OK


@command("acl|getuser", 3, _ADMIN)
def acl_getuser(client: Client, args: list[bytes]) -> Any:
    """ACL GETUSER username -> map of flags, passwords, commands, keys, channels, selectors; or null."""
    acl = _acl(client)
    user = acl.users.get(args[2])
    if user is None:
        return None
    reply: dict[bytes, Any] = {
        b"flags": SetReply(user.flag_names()),
        b"passwords": list(user.passwords),
    }
    reply.update(_selector_fields(acl, user.root))
    reply[b"selectors"] = [_selector_fields(acl, s) for s in user.selectors[1:]]
    return reply


def _selector_fields(acl: Acl, sel: Selector) -> dict[bytes, Any]:
    channels = b"&*" if sel.allchannels else b" ".join(b"&" + c for c in sel.channels)
    return {
        b"commands": sel.describe_commands(acl.index),
        b"keys": b" ".join(sel.describe_keys()),
        b"channels": channels,
    }


@command("acl|deluser", -3, _ADMIN)
def acl_deluser(client: Client, args: list[bytes]) -> Any:
    """ACL DELUSER username [username ...] -> the number of users deleted."""
    if b"default" in args[2:]:
        raise err("The 'default' user cannot be removed")
    return _acl(client).delete_users(args[2:], client)


@command("acl|list", 2, _ADMIN)
def acl_list(client: Client, args: list[bytes]) -> Any:
    """ACL LIST -> one ``user <name> <rules>`` line per user, sorted by name."""
    acl = _acl(client)
    return [b"user " + u.name + b" " + u.describe(acl.index) for u in acl._sorted_users()]


@command("acl|users", 2, _ADMIN)
def acl_users(client: Client, args: list[bytes]) -> Any:
    """ACL USERS -> the user names, sorted."""
    return sorted(_acl(client).users)


@command("acl|whoami", 2, _PLAIN)
def acl_whoami(client: Client, args: list[bytes]) -> Any:
    """ACL WHOAMI -> the connection's user name."""
    return client.user


@command("acl|cat", -2, _PLAIN)
def acl_cat(client: Client, args: list[bytes]) -> Any:
    """ACL CAT [category] -> the categories, or the commands in one."""
    if len(args) > 3:
        raise _subcommand_syntax(args)
    if len(args) == 2:
        return [c.encode() for c in ACL_CATEGORIES]
    cat = _text(args[2]).lower()
    if cat not in ACL_CATEGORIES:
        raise err(f"Unknown category '{_text(args[2][:128])}'")
    out: list[bytes] = []
    for cmd in client.server.table.by_name.values():
        if cat in cmd.categories:
            out.append(cmd.name.encode())
        for sub in cmd.subcommands.values():
            if cat in sub.categories:
                out.append(sub.name.encode())
    return out


@command("acl|genpass", -2, _PLAIN)
def acl_genpass(client: Client, args: list[bytes]) -> Any:
    """ACL GENPASS [bits] -> a random hex password (256 bits by default)."""
    if len(args) > 3:
        raise _subcommand_syntax(args)
    bits = 256
    if len(args) == 3:
        bits = parse_int(args[2])
    if bits <= 0 or bits > 4096:
        raise err(
            "ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096"
        )
    chars = (bits + 3) // 4
    return os.urandom((chars + 1) // 2).hex()[:chars].encode()


@command("acl|log", -2, _ADMIN)
def acl_log(client: Client, args: list[bytes]) -> Any:
    """ACL LOG [count | RESET] -> the latest denials, newest first (OK for RESET)."""
    if len(args) > 3:
        raise _subcommand_syntax(args)
    acl = _acl(client)
    count = 10
    if len(args) == 3:
        if args[2].lower() == b"reset":
            acl.log.clear()
            return OK
        count = parse_int(args[2])
    return acl.log_reply(count)


@command("acl|dryrun", -4, _ADMIN)
def acl_dryrun(client: Client, args: list[bytes]) -> Any:
    """ACL DRYRUN username command [arg ...] -> OK, or a bulk string saying why it is denied."""
    acl = _acl(client)
    user = acl.users.get(args[2])
    if user is None:
        raise err(f"User '{_text(args[2])}' not found")
    argv = args[3:]
    table = client.server.table
    cmd = table.lookup(argv[0])
    if cmd is not None and cmd.subcommands and len(argv) >= 2:
        cmd = cmd.subcommands.get(argv[1].lower())
    if cmd is None:
        raise err(f"Command '{_text(argv[0])}' not found")
    if not cmd.arity_ok(len(argv)):
        raise wrong_arity(cmd.name)
    reason, idx = acl.check(user, cmd, argv)
    if not reason:
        return OK
    if reason == 1:
        return b"This user has no permissions to run the '%s' command" % cmd.name.encode()
    what = b"key" if reason == 2 else b"channel"
    return b"This user has no permissions to access the '%s' %s" % (argv[idx], what)


@command("acl|save", 2, _ADMIN)
def acl_save(client: Client, args: list[bytes]) -> Any:
    """ACL SAVE -> OK, with the users written to ``aclfile``."""
    path = client.server.config["aclfile"]
    if not path:
        raise CommandError(_NO_ACLFILE)
    if not _acl(client).save(path):
        raise err("There was an error trying to save the ACLs. Please check the server logs for more information")
    return OK


@command("acl|load", 2, _ADMIN)
def acl_load(client: Client, args: list[bytes]) -> Any:
    """ACL LOAD -> OK, with the users replaced by those of ``aclfile`` (all or nothing)."""
    path = client.server.config["aclfile"]
    if not path:
        raise CommandError(_NO_ACLFILE)
    errors = _acl(client).load_file(path, client)
    if errors is not None:
        raise CommandError("ERR " + _text(errors))
    return OK


_HELP = (
    "ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CAT [<category>]",
    "    List all commands that belong to <category>, or all command categories",
    "    when no category is specified.",
    "DELUSER <username> [<username> ...]",
    "    Delete a list of users.",
    "DRYRUN <username> <command> [<arg> ...]",
    "    Returns whether the user can execute the given command without executing the command.",
    "GETUSER <username>",
    "    Get the user's details.",
    "GENPASS [<bits>]",
    "    Generate a secure 256-bit user password. The optional `bits` argument can",
    "    be used to specify a different size.",
    "LIST",
    "    Show users details in config file format.",
    "LOAD",
    "    Reload users from the ACL file.",
    "LOG [<count> | RESET]",
    "    Show the ACL log entries.",
    "SAVE",
    "    Save the current config to the ACL file.",
    "SETUSER <username> <attribute> [<attribute> ...]",
    "    Create or modify a user with the specified attributes.",
    "USERS",
    "    List all the registered usernames.",
    "WHOAMI",
    "    Return the current connection username.",
    "HELP",
    "    Prints this help.",
)


@command("acl|help", 2, "loading stale")
def acl_help(client: Client, args: list[bytes]) -> Any:
    """ACL HELP -> the help lines as simple strings."""
    from snakedis.protocol.resp import Simple

    return [Simple(line.encode()) for line in _HELP]
