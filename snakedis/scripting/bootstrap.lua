-- The sandbox every script and function runs in (chunk name "=snakedis": frames of this
-- chunk are skipped when an error is attributed to a script line).
local py = ...
local _G0 = _G
local setfenv, getmetatable, setmetatable, rawset, rawget = setfenv, getmetatable, setmetatable, rawset, rawget
local type, tostring, error, xpcall, pairs, next = type, tostring, error, xpcall, pairs, next
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

-- Build one sandbox: returns (env, G, R) where env is what scripts see as _G, G the hidden
-- table of globals (KEYS/ARGV are stored there) and R the hidden redis table.
local function make_sandbox(redis_api)
  local G = {}
  local env = {}
  for _, n in ipairs({"assert", "collectgarbage", "error", "gcinfo", "getmetatable", "ipairs",
                      "pcall", "rawequal", "rawget", "select", "setmetatable",
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

local function make_redis_api()
  local R = {}
  c_function(R, "call", function(...)
    local ok, v = pycall(true, ...)
    if ok then return true, v end
    return false, {err = v}
  end)
  R.pcall = function(...)
    local ok, v = pycall(false, ...)
    if ok then return v end
    return {err = v}
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

local function run(fn)
  return xpcall(fn, err_handler)
end

-- EVAL: KEYS/ARGV are built here from the call's arguments (one boundary crossing).
local function run_eval(fn, nkeys, ...)
  local all = {...}
  local keys, argv = {}, {}
  for i = 1, nkeys do keys[i] = all[i] end
  for i = nkeys + 1, select("#", ...) do argv[i - nkeys] = all[i] end
  script_G.KEYS = keys
  script_G.ARGV = argv
  return xpcall(fn, err_handler)
end

local function run_function(fn, keys, args)
  return xpcall(function() return fn(keys, args) end, err_handler)
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
  run = run,
  run_function = run_function,
  G = script_G,
  run_eval = run_eval,
  arm_hook = arm_hook,
  load_library = load_library,
  setfenv = setfenv,
  error_handler = err_handler,
}
