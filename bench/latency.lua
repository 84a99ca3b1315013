-- wrk script for bench/proxy.sh.
--
-- At the end of a run, write wrk's whole latency histogram to the file named by WRK_HISTOGRAM,
-- one "microseconds<TAB>count" line per distinct value, so that the rounds of a peer can be
-- pooled into one distribution (bench/summarize.py) instead of taking the median of per-round
-- percentiles. No request() or response() hook: wrk keeps its fast path that sends the same
-- prepared request.
--
-- With WRK_RATE set (requests a second for each wrk thread; bench/proxy.sh runs one), requests
-- leave on a schedule at that rate: each finished request takes the next departure time, and
-- its connection waits until then. Gaps between departures are drawn as in a Poisson process
-- (exponential, mean 1 / WRK_RATE), so arrivals neither march in step nor depend on how fast
-- the proxy answers: every peer gets the same offered rate, as long as it can take it with the
-- connections wrk holds. At full speed a faster proxy also meets more queueing in wrk and the
-- backend on the shared load core, and its latency says as much about them as about itself; at
-- the same rate the latencies compare the proxies. A proxy that stalls falls behind the
-- schedule, and the requests it owes then leave at once, as real traffic would keep coming.
-- wrk starts a request's clock when it writes it, after the wait, so the wait is not latency.

local rate = tonumber(os.getenv("WRK_RATE") or "")

if rate and rate > 0 then
    local ffi = require("ffi")
    ffi.cdef [[
        typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
        int clock_gettime(int clock, bench_timespec *now);
    ]]
    local CLOCK_MONOTONIC = 1
    local ts = ffi.new("bench_timespec")
    local function now_ms()
        ffi.C.clock_gettime(CLOCK_MONOTONIC, ts)
        return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
    end
    local mean_gap_ms = 1000 / rate
    local next_at = nil
    math.randomseed(os.time())

    function delay()
        local now = now_ms()
        next_at = (next_at or now) - mean_gap_ms * math.log(1 - math.random())
        local wait = next_at - now
        if wait <= 0 then
            return 0
        end
        -- wrk takes whole milliseconds: round up with the probability of the fraction, so the
        -- mean wait is the scheduled one.
        local whole = math.floor(wait)
        if math.random() < wait - whole then
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
