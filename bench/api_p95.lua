-- wrk script for api_list: prints the 95th percentile latency in microseconds.
done = function(summary, latency, requests)
  io.write(string.format("P95_US %d\n", latency:percentile(95)))
end
