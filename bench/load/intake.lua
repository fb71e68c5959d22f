-- wrk script: POST /v3/access-requests, each request a new (identity, entitlement) pair.
-- Reads the ids from IDS_FILE (identities) and ENTS_FILE (entitlements), one per line; threads
-- interleave so no pair repeats within a run (duplicates would be answered without an insert).
local identities, entitlements = {}, {}
local counter, stride, offset = 0, 1, 0
local threads = {}

local function lines(path)
  local t = {}
  for l in io.lines(path) do
    if #l > 0 then t[#t + 1] = l end
  end
  return t
end

function setup(thread)
  thread:set("offset", #threads)
  threads[#threads + 1] = thread
end

function init(args)
  identities = lines(os.getenv("IDS_FILE"))
  entitlements = lines(os.getenv("ENTS_FILE"))
  offset = tonumber(wrk.thread:get("offset")) or 0
  stride = tonumber(os.getenv("THREADS") or "2")
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
end

function request()
  local i = offset + counter * stride + tonumber(os.getenv("START") or "0")
  counter = counter + 1
  local who = identities[(i % #identities) + 1]
  local what = entitlements[(math.floor(i / #identities) % #entitlements) + 1]
  local body = '{"requestedFor":["' .. who .. '"],"requestedItems":[{"type":"ENTITLEMENT","id":"' .. what .. '"}]}'
  return wrk.format(nil, "/v3/access-requests", nil, body)
end

function done(summary, latency, requests)
  local errors = summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.stderr:write(string.format("non-2xx or socket errors: %d\n", errors))
end
