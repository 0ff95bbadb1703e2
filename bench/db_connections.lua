-- wrk script for db_connections_max: a mix of anonymous requests to unknown hosts (every one looks
-- its host up in the database), API reads and API writes; prints the count of each status.
-- BENCH_BASE (base host name), BENCH_API_HOST and BENCH_API_KEY come from the environment.
local base = os.getenv("BENCH_BASE")
local api_host = os.getenv("BENCH_API_HOST")
local auth = "Bearer " .. os.getenv("BENCH_API_KEY")
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  n = 0
  statuses = {}
end

function request()
  n = n + 1
  local kind = n % 4
  if kind == 0 then
    return wrk.format("PATCH", "/api/v1/tenant/",
      {["Host"] = api_host, ["Authorization"] = auth, ["Content-Type"] = "application/json"},
      '{"name": "Bench connections ' .. n .. '"}')
  elseif kind == 2 then
    return wrk.format("GET", "/api/v1/members/", {["Host"] = api_host, ["Authorization"] = auth})
  end
  return wrk.format("GET", "/", {["Host"] = "nobody-" .. n .. "." .. base})
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      total[status] = (total[status] or 0) + count
    end
  end
  for status, count in pairs(total) do
    io.write(string.format("STATUS %d %d\n", status, count))
  end
end
