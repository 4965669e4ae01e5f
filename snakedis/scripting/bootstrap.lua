-- The sandbox every script and function runs in (chunk name "=snakedis": frames of this
-- chunk are skipped when an error is attributed to a script line).
local py = ...
local _G0 = _G
local setfenv, getmetatable, setmetatable, rawset, rawget = setfenv, getmetatable, setmetatable, rawset, rawget
local type, tostring, error, xpcall, pairs, next = type, tostring, error, xpcall, pairs, next
local pcall, select = pcall, select
local loadstring, load = loadstring, load
local dbg_getinfo, dbg_sethook = debug.getinfo, debug.sethook

local proxied = {}

local function readonly_error()
  error("Attempt to modify a readonly table", 2)
end

local function proxy(t)
  local p = {}
  setmetatable(p, {__index = t, __newindex = readonly_error, __metatable = false})
  proxied[p] = t
  return p
end

local function missing_global(_, name)
  error("Script attempted to access nonexistent global variable '" .. tostring(name) .. "'", 2)
end

local function pcall_result(ok, ...)
  if ok then return ok, ... end
  local e = ...
  if type(e) == "table" then
    local m = e.err
    local tm = type(m)
    if tm == "string" or tm == "number" then return false, m end
  end
  return false, e
end

-- Build one sandbox: returns (env, G, R) where env is what scripts see as _G, G the hidden
-- table of globals (KEYS/ARGV are stored there) and R the hidden redis table.
local function make_sandbox(redis_api)
  local G = {}
  local env = {}
  for _, n in ipairs({"assert", "collectgarbage", "error", "gcinfo", "getmetatable", "ipairs",
                      "rawequal", "rawget", "select", "setmetatable",
                      "tonumber", "tostring", "type", "unpack", "xpcall", "_VERSION"}) do
    G[n] = _G0[n]
  end
  G.coroutine = proxy(coroutine)
  G.string = proxy(string)
  G.table = proxy(table)
  G.math = proxy(math)
  G.os = proxy({clock = os.clock})
  G.bit = proxy(py.bit)
  G.cjson = proxy(py.cjson)
  G.cmsgpack = proxy(py.cmsgpack)
  G.struct = proxy(py.struct)
  G.redis = proxy(redis_api)
  G._G = env
  -- Redis's pcall (luaRedisPcall): an error table whose `err` is a string or a number is
  -- caught as that value, so pcall(redis.call, ...) gives the message, as in Redis
  G.pcall = function(...)
    if select("#", ...) == 0 then return false, "attempt to call a boolean value" end
    return pcall_result(pcall(...))
  end
  G.pairs = function(t)
    local real = proxied[t]
    if real ~= nil then return next, real, nil end
    return pairs(t)
  end
  G.next = function(t, k)
    local real = proxied[t]
    if real ~= nil then return next(real, k) end
    return next(t, k)
  end
  G.rawset = function(t, k, v)
    if proxied[t] ~= nil or t == env then error("Attempt to modify a readonly table", 0) end
    return rawset(t, k, v)
  end
  G.setmetatable = function(t, mt)
    if proxied[t] ~= nil or t == env then error("Attempt to modify a readonly table", 0) end
    return setmetatable(t, mt)
  end
  G.loadstring = function(s, name)
    local f, e = loadstring(s, name)
    if f then setfenv(f, env) end
    return f, e
  end
  G.load = function(fn, name)
    local f, e = load(fn, name)
    if f then setfenv(f, env) end
    return f, e
  end
  setmetatable(G, {__index = missing_global, __metatable = false})
  local env_mt = {__index = G, __newindex = readonly_error, __metatable = false}
  setmetatable(env, env_mt)
  return env, G, env_mt
end

local function err_handler(err)
  local lvl = 2
  local i = dbg_getinfo(lvl, "Sl")
  while i and (i.what == "C" or i.source == "=snakedis") do
    lvl = lvl + 1
    i = dbg_getinfo(lvl, "Sl")
  end
  if type(err) ~= "table" then
    err = {err = "ERR " .. tostring(err)}
  end
  if i then
    err.source = i.source
    err.line = i.currentline
  end
  return err
end

-- redis.* for scripts and functions
local pycall = py.call
local co_wrap, co_yield = coroutine.wrap, coroutine.yield

-- Redis's redis.* functions are C functions: `return redis.call(...)` is then no tail call
-- and an error keeps the script's line.  A Lua function would be tail-called, so every
-- raising API function is exposed through coroutine.wrap (a C function); `raw` returns
-- (ok, value) and the wrapper re-raises, then replaces itself since its coroutine died.
local function c_function(R, key, raw)
  local install
  install = function()
    local function loop(...)
      local ok, v = raw(...)
      if not ok then
        install()
        error(v, 0)
      end
      return loop(co_yield(v))
    end
    rawset(R, key, co_wrap(loop))
  end
  install()
end

-- redis.call is c_function's pattern with `raw` inlined (it runs for every command a script
-- sends): py.call answers the reply, or (nil, message) for an error.
local function install_call(R)
  local install
  install = function()
    local function loop(...)
      local v, e = pycall(...)
      if e ~= nil then
        install()
        error({err = e}, 0)
      end
      return loop(co_yield(v))
    end
    rawset(R, "call", co_wrap(loop))
  end
  install()
end

local function make_redis_api()
  local R = {}
  install_call(R)
  R.pcall = function(...)
    local v, e = pycall(...)
    if e ~= nil then return {err = e} end
    return v
  end
  R.error_reply = function(...)
    local msg = ...
    if select("#", ...) ~= 1 or (type(msg) ~= "string" and type(msg) ~= "number") then
      return {err = "ERR wrong number or type of arguments"}
    end
    msg = tostring(msg)
    if string.sub(msg, 1, 1) ~= "-" then msg = "-" .. msg end
    local sp = string.find(msg, " ", 1, true)
    local code, text
    if sp then
      code, text = string.sub(msg, 2, sp - 1), string.sub(msg, sp + 1)
    else
      code, text = "ERR", string.sub(msg, 2)
    end
    text = string.gsub(string.gsub(text, "^[\r\n]+", ""), "[\r\n]+$", "")
    return {err = code .. " " .. text}
  end
  R.status_reply = function(...)
    local msg = ...
    if select("#", ...) ~= 1 or (type(msg) ~= "string" and type(msg) ~= "number") then
      return {err = "ERR wrong number or type of arguments"}
    end
    return {ok = tostring(msg)}
  end
  c_function(R, "sha1hex", function(...)
    if select("#", ...) ~= 1 then return false, {err = "ERR wrong number of arguments"} end
    return true, py.sha1hex(...)
  end)
  for _, name in ipairs({"log", "setresp", "set_repl"}) do
    local f = py[name]
    c_function(R, name, function(...)
      local r = f(...)
      if r then return false, {err = r} end
      return true, nil
    end)
  end
  R.replicate_commands = function() return true end
  R.breakpoint = function() return false end
  R.debug = function() end
  c_function(R, "acl_check_cmd", function(...)
    local ok, v = py.acl_check_cmd(...)
    if ok then return true, v end
    return false, {err = v}
  end)
  R.LOG_DEBUG, R.LOG_VERBOSE, R.LOG_NOTICE, R.LOG_WARNING = 0, 1, 2, 3
  R.REPL_NONE, R.REPL_AOF, R.REPL_SLAVE, R.REPL_REPLICA, R.REPL_ALL = 0, 1, 2, 2, 3
  R.REDIS_VERSION = py.version
  R.REDIS_VERSION_NUM = py.version_num
  return R
end

local script_api = make_redis_api()
local script_env, script_G = make_sandbox(script_api)

-- The API FUNCTION LOAD code sees: only register_function, log and the constants.
local function make_load_api(register)
  local R = {}
  R.register_function = function(...)
    local e = register(...)
    if e then error({err = e}) end
  end
  for _, name in ipairs({"log", "setresp"}) do
    local f = py[name]
    c_function(R, name, function(...)
      local r = f(...)
      if r then return false, {err = r} end
      return true, nil
    end)
  end
  R.LOG_DEBUG, R.LOG_VERBOSE, R.LOG_NOTICE, R.LOG_WARNING = 0, 1, 2, 3
  R.REDIS_VERSION = py.version
  R.REDIS_VERSION_NUM = py.version_num
  setmetatable(R, {__index = missing_global})
  return R
end

-- The busy-script hook: every 10000 instructions ask Python; a kill turns into an error
-- raised on every line so pcall cannot swallow it.
local busy_check = py.busy_check
local killed_msg = nil
local function kill_hook()
  -- only in script code: the error handler and our own helpers must run to completion
  local i = dbg_getinfo(2, "S")
  if i and i.source ~= "=snakedis" then
    error({err = killed_msg})
  end
end
local function hook()
  local r = busy_check()
  if r then
    killed_msg = r
    dbg_sethook(kill_hook, "l")
    error({err = r})
  end
end
local function arm_hook()
  dbg_sethook(hook, "", 10000)
end
arm_hook()

local function compile(code, chunkname, env)
  local f, e = loadstring(code, chunkname)
  if not f then return nil, e end
  setfenv(f, env or script_env)
  return f
end

-- Running a script or function.  Python calls a runner with the compiled function followed
-- by the call's keys and arguments (one crossing; no tables built from Python).  A runner is
-- made per key count, so KEYS/ARGV are built straight from its parameters, and it tail-calls
-- the script, so the only pcall is lupa's own, whose handler is the global debug.traceback:
-- `traceback` below keeps the error table for Python (take_error) and hands lupa a string.
local last_error = nil
local function traceback(err)
  last_error = err_handler(err)
  return "script error"
end
debug.traceback = traceback

local function take_error()
  local e = last_error
  last_error = nil
  return e
end

local MAX_RUNNER_KEYS = 32
local runner_sources = {
  eval = "local G = ... return function(fn%s, ...) G.KEYS = {%s} G.ARGV = {...} return fn() end",
  fcall = "return function(fn%s, ...) return fn({%s}, {...}) end",
}

-- more keys than MAX_RUNNER_KEYS: the key count is passed first
local function eval_any(fn, nkeys, ...)
  local all = {...}
  local keys, argv = {}, {}
  for i = 1, nkeys do keys[i] = all[i] end
  for i = nkeys + 1, select("#", ...) do argv[i - nkeys] = all[i] end
  script_G.KEYS = keys
  script_G.ARGV = argv
  return fn()
end

local function fcall_any(fn, nkeys, ...)
  local all = {...}
  local keys, argv = {}, {}
  for i = 1, nkeys do keys[i] = all[i] end
  for i = nkeys + 1, select("#", ...) do argv[i - nkeys] = all[i] end
  return fn(keys, argv)
end

-- the runner of `kind` ("eval" or "fcall") for `nkeys` keys
local function make_runner(kind, nkeys)
  if nkeys > MAX_RUNNER_KEYS then
    return kind == "eval" and eval_any or fcall_any
  end
  local names = {}
  for i = 1, nkeys do names[i] = "k" .. i end
  local list = table.concat(names, ", ")
  local src = string.format(runner_sources[kind], nkeys > 0 and ", " .. list or "", list)
  return loadstring(src, "=snakedis")(script_G)
end

-- FUNCTION LOAD: run the library body in a fresh sandbox whose redis table only registers.
local function load_library(code, register)
  -- while loading, the library sees only `redis` (with register_function); its callbacks
  -- later run with the full globals.
  local env, G, env_mt = make_sandbox(script_api)
  local loadG = {redis = proxy(make_load_api(register))}
  setmetatable(loadG, {__index = missing_global, __metatable = false})
  local f, e = loadstring(code, "@user_function")
  if not f then return false, e end
  setfenv(f, env)
  env_mt.__index = loadG
  local ok, err = xpcall(f, err_handler)
  env_mt.__index = G
  if not ok then return false, err end
  return true, env
end


return {
  compile = compile,
  make_runner = make_runner,
  max_runner_keys = MAX_RUNNER_KEYS,
  take_error = take_error,
  G = script_G,
  arm_hook = arm_hook,
  load_library = load_library,
  setfenv = setfenv,
  error_handler = err_handler,
}
