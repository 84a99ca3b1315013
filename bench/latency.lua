-- wrk script for bench/proxy.sh: at the end of a run, write wrk's whole latency histogram to
-- the file named by WRK_HISTOGRAM, one "microseconds<TAB>count" line per distinct value, so
-- that the rounds of a peer can be pooled into one distribution (bench/summarize.py) instead
-- of taking the median of per-round percentiles. No request() or response() hook: wrk keeps
-- its fast path that sends the same prepared request.
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
