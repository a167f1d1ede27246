-- wrk script: POST a claim from a different user on every request.
-- Usage: wrk -s scripts/bench/claim.lua ... http://host:port/v1/templates/<id>/claim
-- Set QUAN_ADMIN_KEY in the environment; USERS (default 100000) is the number of distinct users.
local key = os.getenv("QUAN_ADMIN_KEY")
local users = tonumber(os.getenv("USERS") or "100000")
local counter = 0
local thread_id = 0
local threads = {}

function setup(thread)
  thread:set("thread_id", #threads)
  table.insert(threads, thread)
end

function init(args)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. key
end

function request()
  counter = counter + 1
  local user = (counter * 7919 + thread_id * 104729) % users
  return wrk.format(nil, nil, nil, '{"user_id":"u' .. user .. '","channel":"app"}')
end

function done(summary, latency, requests)
  local non2xx = summary.errors.status
  io.write(string.format("requests %d, non-2xx %d, socket errors %d\n", summary.requests, non2xx,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
