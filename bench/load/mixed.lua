-- wrk script for the soak (bench/soak.sh): a mixed read/write load. Of every ten requests, two
-- are POST /v3/access-requests (each a new identity-entitlement pair, as bench/load/intake.lua),
-- four GET /v3/service-desk-integrations/{id}, two GET a status page of 50 and two GET an
-- identities page of 50. Needs IDS_FILE, ENTS_FILE, TOKEN, SDIM and THREADS in the environment.
local identities, entitlements = {}, {}
local counter, stride, offset, posts = 0, 1, 0, 0
local threads = {}
local auth, sdim

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
  auth = "Bearer " .. os.getenv("TOKEN")
  sdim = os.getenv("SDIM")
end

function request()
  local k = counter % 10
  counter = counter + 1
  local headers = {["Authorization"] = auth}
  if k < 2 then
    local i = offset + posts * stride
    posts = posts + 1
    local who = identities[(i % #identities) + 1]
    local what = entitlements[(math.floor(i / #identities) % #entitlements) + 1]
    headers["Content-Type"] = "application/json"
    local body = '{"requestedFor":["' .. who .. '"],"requestedItems":[{"type":"ENTITLEMENT","id":"' .. what .. '"}]}'
    return wrk.format("POST", "/v3/access-requests", headers, body)
  elseif k < 6 then
    return wrk.format("GET", "/v3/service-desk-integrations/" .. sdim, headers)
  elseif k < 8 then
    return wrk.format("GET", "/v3/access-request-status?limit=50", headers)
  else
    return wrk.format("GET", "/v2024/identities?limit=50&sorters=name", headers)
  end
end
