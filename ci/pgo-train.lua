-- wrk script for ci/pgo-train.sh: the mix of requests a profile-guided build learns from.
-- Every branch a deployment takes often should run here a fair share of the time: LLVM
-- optimises what never ran for size, not speed.
--   - hosts: two user routers (one with middlewares and a weighted service, one on h2c to its
--     server), an unknown host (404), tollgate's own /ping and /report.json;
--   - paths, user agents and referrers drawn from small pools, so the stats engine's top-k
--     tables and the access log see many distinct keys;
--   - one request in eight a POST with a 4 KiB body (streamed request bodies).
local agents = {
   "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
   "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
   "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36",
   "curl/8.5.0",
   "Googlebot/2.1 (+http://www.google.com/bot.html)",
   "python-requests/2.31.0",
}
local hosts = { "app.test", "app.test", "app.test", "api.test", "api.test", "h2.test", "nowhere.test" }
local body = string.rep("x", 4096)
local n = 0

request = function()
   n = n + 1
   local headers = {
      ["User-Agent"] = agents[math.random(#agents)],
      ["Referer"] = "https://ref" .. math.random(40) .. ".test/",
   }
   if n % 97 == 0 then
      headers["Host"] = "app.test"
      return wrk.format("GET", "/ping", headers)
   end
   if n % 997 == 0 then
      headers["Host"] = "app.test"
      return wrk.format("GET", "/report.json", headers)
   end
   headers["Host"] = hosts[math.random(#hosts)]
   local path = "/p/" .. math.random(3000) .. "?q=" .. math.random(50)
   if headers["Host"] == "api.test" then
      path = "/api/v1/items/" .. math.random(500)
   end
   if n % 8 == 0 then
      headers["Content-Type"] = "application/octet-stream"
      return wrk.format("POST", path, headers, body)
   end
   return wrk.format("GET", path, headers)
end
