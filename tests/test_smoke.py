"""The harness itself: both servers start and answer the same."""


def test_ping_and_strings(diff):
    diff("PING")
    diff("PING", "hello")
    diff("SET", "k", "v")
    diff("GET", "k")
    diff("GET", "missing")
    diff("DEL", "k", "missing")
    diff("nosuchcommand", "a", "b")
    diff("GET")
