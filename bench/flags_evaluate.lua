-- wrk script for flag_api_p95_ms: POST /api/v1/flags/evaluate for a new distinct id each time
-- (properties that the 20 flags' rules read), and the 95th percentile latency in microseconds.
local counter = 0
local plans = {"free", "team", "pro"}

request = function()
  counter = counter + 1
  local body = string.format(
    '{"distinct_id": "user-%d", "exposures": false, "properties": {"plan": "%s", "age": %d, "email": "user%d@acme.test"}, "groups": {"organisation": "org-%d"}}',
    counter, plans[counter % 3 + 1], 18 + counter % 60, counter, counter % 50)
  wrk.headers["Content-Type"] = "application/json"  -- beside Host and Authorization from -H
  return wrk.format("POST", nil, nil, body)
end

done = function(summary, latency, requests)
  io.write(string.format("P95_US %d\n", latency:percentile(95)))
end
