-- wrk script for bench/proxy.sh.
--
-- At the end of a run, write wrk's whole latency histogram to the file named by WRK_HISTOGRAM,
-- one "microseconds<TAB>count" line per distinct value, so that the rounds of a peer can be
-- pooled into one distribution (bench/summarize.py) instead of taking the median of per-round
-- percentiles. No request() or response() hook: wrk keeps its fast path that sends the same
-- prepared request.
--
-- With WRK_PACE_MS set, each connection waits a random time with that mean (milliseconds)
-- before each request, so every peer gets about the same offered rate (connections / (pace +
-- latency)) instead of as many requests as it can take. At full speed a faster proxy also meets
-- more queueing in wrk and the backend on the shared load core, and its latency says as much
-- about them as about itself; at the same moderate rate the latencies compare the proxies.
-- wrk starts a request's clock when it writes it, after the wait, so the wait is not latency.

local pace = tonumber(os.getenv("WRK_PACE_MS") or "")

if pace and pace > 0 then
    math.randomseed(os.time())
    -- wrk truncates the delay to whole milliseconds: draw uniformly on [0, 2 * pace) and round
    -- up with the probability of the fraction, so the mean stays `pace`. The spread keeps the
    -- connections from falling into step with each other.
    function delay()
        local d = math.random() * 2 * pace
        local whole = math.floor(d)
        if math.random() < d - whole then
            whole = whole + 1
        end
        return whole
    end
end

done = function(summary, latency, requests)
    local path = os.getenv("WRK_HISTOGRAM")
    if not path or path == "" then
        return
    end
    local f = assert(io.open(path, "w"))
    -- latency(i) walks the histogram from its minimum each call: quadratic in the distinct
    -- values, which stay in the thousands (one per microsecond seen), so well under a second.
    for i = 1, #latency do
        local value, count = latency(i)
        f:write(string.format("%d\t%d\n", value, count))
    end
    f:close()
end
