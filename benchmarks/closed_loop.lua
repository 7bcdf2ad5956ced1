-- Closed-loop requests for the reference comparison (benchmarks/comparison.py): each of wrk's
-- connections sends its next request as soon as the last answer arrives.
--
--   wrk -t1 -c32 -d10s -s benchmarks/closed_loop.lua URL -- get IDS     (IDS: "1,2,3", seeded)
--   wrk -t1 -c32 -d10s -s benchmarks/closed_loop.lua URL -- create RUN  (RUN: unique names)
--
-- An answer of 400 or more counts in wrk's status errors (no `response` hook: it would make wrk
-- parse every answer); the last line printed is a JSON summary.

local threads = {}

function setup(thread)
  thread:set("thread_number", #threads + 1)
  table.insert(threads, thread)
end

local op, ids, run
local sequence = 0
local JSON = { ["Content-Type"] = "application/json" }

function init(args)
  op = args[1]
  if op == "get" then
    ids = {}
    for id in string.gmatch(args[2], "%d+") do ids[#ids + 1] = id end
  else
    run = args[2]
  end
end

function request()
  if op == "get" then
    return wrk.format("GET", "/users/" .. ids[math.random(#ids)])
  end
  sequence = sequence + 1
  local name = string.format("cl-%s-%d-%d", run, thread_number, sequence)
  return wrk.format("POST", "/users", JSON,
    string.format('{"name":"%s","email":"%s@bench.example"}', name, name))
end

function done(summary, latency)
  local errors = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"errors":%d,"p50_us":%d,"p99_us":%d}\n',
    summary.requests, summary.duration,
    errors.connect + errors.read + errors.write + errors.status + errors.timeout,
    latency:percentile(50), latency:percentile(99)))
end
