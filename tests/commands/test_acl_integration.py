"""ACL applied where commands run indirectly: queued in MULTI, and called from Lua."""

from __future__ import annotations

from rawclient import RawClient


def _scenario(port: int) -> list[bytes]:
    admin = RawClient(port)
    user = RawClient(port)
    out = []
    try:
        out.append(admin.cmd("ACL", "SETUSER", "txuser", "on", ">pw", "+@all", "~*", "&*"))
        out.append(user.cmd("AUTH", "txuser", "pw"))
        out.append(user.cmd("MULTI"))
        out.append(user.cmd("SET", "acl:k", "v"))
        out.append(user.cmd("GET", "acl:k"))
        out.append(admin.cmd("ACL", "SETUSER", "txuser", "-set"))
        out.append(user.cmd("EXEC"))
        out.append(user.cmd("EVAL", "return redis.call('set', KEYS[1], 'v')", "1", "acl:k"))
        out.append(user.cmd("EVAL", "return redis.pcall('set', KEYS[1], 'v')", "1", "acl:k"))
        out.append(user.cmd("EVAL", "return redis.call('get', KEYS[1])", "1", "acl:k"))
    finally:
        admin.cmd("ACL", "DELUSER", "txuser")
        admin.close()
        user.close()
    return out


def test_exec_and_scripts_recheck_permissions(redis_proc, snakedis_proc) -> None:
    assert _scenario(snakedis_proc.port) == _scenario(redis_proc.port)
