"""Lua scripting runtime (EVAL and FUNCTION share it): see ``engine``."""
