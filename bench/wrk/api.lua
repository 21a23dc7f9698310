-- wrk script for every API scenario of `make bench` (see bench/bench.sh).
--
--   wrk -s bench/wrk/api.lua URL -- MODE TOKENS TASKS_PER_USER [QUERY] [USER]
--
-- MODE: list | get | toggle | create | mixed (80% list, 20% create) |
--       listin (a list's tasks by position: user n's list is n + 1, seed
--       -lists) | move (a task right after another of the same list) |
--       recur (PATCH complete of user n's repeating task: QUERY is then
--       the file of "n id" lines bench.sh writes) |
--       seq (list, users in order: the warm-up, so every token and user has
--       been seen once before measuring) | seqauth (the same with a GET of a
--       task nobody has: 404 after the token check and the user upsert, for
--       layouts where some lists are huge) | changes (GET .../changes?since=
--       a cursor some changes back: QUERY is then the file of "<user id>
--       <cursor>" lines, seed -cursors) |
--       sharedin (issue 19: user n, an editor of user n+1's list, lists it
--       as listin does its own; bench.sh's shared scenario makes the
--       memberships) | sharedget (user n GETs a task of user n+1's list).
-- TOKENS: file of "<user id> <token>" lines, user 0 first (bench/cmd/jwksserver).
-- TASKS_PER_USER: the seeded layout; user n's j-th task has id j*users+n+1.
-- QUERY: appended to list URLs (e.g. "?limit=50"); "-" for none.
-- USER: a fixed user number instead of a random one; -1 for random.
--
-- Each request picks a user at random and sends their token. Requests for
-- list and seq are built once per user, so wrk's own cost stays small.
-- done() prints one machine-readable WRK_RESULT line.

local thread_count = 0

function setup(thread)
   thread:set("tid", thread_count)
   thread_count = thread_count + 1
end

function init(args)
   mode = args[1]
   per = tonumber(args[3])
   local query = args[4] or "-"
   if query == "-" then query = "" end
   recur = {}
   if mode == "recur" then
      for line in io.lines(query) do
         local n, id = line:match("^(%d+)%s+(%d+)$")
         if n then recur[tonumber(n) + 1] = id end
      end
      query = ""
   end
   fixed = tonumber(args[5] or "-1")
   ids, auth, lists = {}, {}, {}
   for line in io.lines(args[2]) do
      local id, tok = line:match("^(%S+)%s+(%S+)$")
      if id then
         ids[#ids + 1] = id
         auth[#auth + 1] = "Bearer " .. tok
      end
   end
   users = #ids
   local cursors = {}
   if mode == "changes" then
      for line in io.lines(query) do
         local id, c = line:match("^(%S+)%s+(%S+)$")
         if id then cursors[id] = c end
      end
   end
   for i = 1, users do
      if mode == "changes" then
         lists[i] = wrk.format("GET", "/api/" .. ids[i] .. "/changes?since=" .. cursors[ids[i]], { Authorization = auth[i] })
      elseif mode == "listin" then
         lists[i] = wrk.format("GET", "/api/" .. ids[i] .. "/tasks?list_id=" .. i .. "&parent_id=none&sort=position",
            { Authorization = auth[i] })
      elseif mode == "sharedin" then
         lists[i] = wrk.format("GET", "/api/" .. ids[i] .. "/tasks?list_id=" .. (i % users + 1) .. "&parent_id=none&sort=position",
            { Authorization = auth[i] })
      else
         lists[i] = wrk.format("GET", "/api/" .. ids[i] .. "/tasks" .. query, { Authorization = auth[i] })
      end
   end
   create_body = '{"title":"bench task","description":null}'
   next_user = (tid or 0) % users
   math.randomseed(os.time() * 1000 + (tid or 0) * 7919)
end

local function pick()
   if fixed >= 0 then return fixed + 1 end
   return math.random(users)
end

local function task_path(i)
   local j = math.random(per) - 1
   return "/api/" .. ids[i] .. "/tasks/" .. (j * users + (i - 1) + 1)
end

-- move: a random task of user i right after another of theirs.
local function move(i)
   local j = math.random(per) - 1
   local k = (j + math.random(per - 1)) % per
   return wrk.format("POST", "/api/" .. ids[i] .. "/tasks/" .. (j * users + i) .. "/move",
      { Authorization = auth[i], ["Content-Type"] = "application/json" },
      '{"after_id":' .. (k * users + i) .. '}')
end

local function create(i)
   return wrk.format("POST", "/api/" .. ids[i] .. "/tasks",
      { Authorization = auth[i], ["Content-Type"] = "application/json" }, create_body)
end

function request()
   if mode == "list" or mode == "listin" or mode == "sharedin" or mode == "changes" then
      return lists[pick()]
   elseif mode == "move" then
      return move(pick())
   elseif mode == "seq" then
      next_user = next_user % users + 1
      return lists[next_user]
   elseif mode == "seqauth" then
      next_user = next_user % users + 1
      return wrk.format("GET", "/api/" .. ids[next_user] .. "/tasks/999999999999", { Authorization = auth[next_user] })
   elseif mode == "get" then
      local i = pick()
      return wrk.format("GET", task_path(i), { Authorization = auth[i] })
   elseif mode == "sharedget" then
      -- a task of user i+1 (1-based: the next user's), through user i's URL
      local i = pick()
      local j = math.random(per) - 1
      return wrk.format("GET", "/api/" .. ids[i] .. "/tasks/" .. (j * users + (i % users) + 1), { Authorization = auth[i] })
   elseif mode == "toggle" then
      local i = pick()
      return wrk.format("PATCH", task_path(i) .. "/complete", { Authorization = auth[i] })
   elseif mode == "recur" then
      local i = pick()
      return wrk.format("PATCH", "/api/" .. ids[i] .. "/tasks/" .. recur[i] .. "/complete", { Authorization = auth[i] })
   elseif mode == "create" then
      return create(pick())
   elseif mode == "mixed" then
      local i = pick()
      if math.random(100) <= 80 then return lists[i] end
      return create(i)
   end
   error("unknown mode " .. tostring(mode))
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      "WRK_RESULT requests=%d duration_us=%d p50_us=%d p99_us=%d max_us=%d connect=%d read=%d write=%d status=%d timeout=%d\n",
      summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
      e.connect, e.read, e.write, e.status, e.timeout))
end
