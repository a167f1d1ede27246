-- wrk script: POST a checkout quote for one of USERS members (u0..), each holding the same
-- coupons; the cart comes from the CART environment variable (a JSON array of lines).
local key = os.getenv("QUAN_ADMIN_KEY")
local users = tonumber(os.getenv("USERS") or "100")
local cart = os.getenv("CART")
local counter = 0

function init(args)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. key
end

function request()
  counter = counter + 1
  local user = counter % users
  return wrk.format(nil, nil, nil, '{"user_id":"q' .. user .. '","channel":"app","lines":' .. cart .. '}')
end

function done(summary, latency, requests)
  io.write(string.format("requests %d, non-2xx %d\n", summary.requests, summary.errors.status))
end
