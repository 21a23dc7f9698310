# Summarises a CPU profile of the service into exclusive buckets: where the
# CPU time of the requests goes, by the library that spent it.
#   go tool pprof -traces BINARY PROFILE | awk -f bench/profsum.awk
# A sample goes to the leaf-most frame that belongs to a known library,
# skipping generic standard library and runtime frames, so allocation,
# reflection and strconv land on whoever asked for them. System calls go to
# the socket's owner (the PostgreSQL driver or net/http); background GC and
# the scheduler have their own buckets.
function owner(f) {
  if (f ~ /^encoding\/json\./) return "JSON encoding of the response (encoding/json via huma)"
  if (f ~ /jackc\/pgx\/v5\/pgtype/) return "pgx: decoding column values"
  if (f ~ /jackc\/pgx|jackc\/pgconn|pgproto3/) return "pgx: wire protocol"
  if (f ~ /^database\/sql\./) return "database/sql: pool, Rows, convertAssign"
  if (f ~ /uptrace\/bun/) return "Bun: building SQL, scanning rows by reflection"
  if (f ~ /todo\/domain\/task\./) return "domain: task.Restore (re-checking rows)"
  if (f ~ /todo\/adapters\/sqlstore\./) return "sqlstore: row to task"
  if (f ~ /todo\/adapters\/jwks\.|golang-jwt/) return "JWT verification"
  if (f ~ /go\.uber\.org\/zap/) return "zap logging"
  if (f ~ /danielgtaylor\/huma/) return "huma: parameters, validation, response plumbing"
  if (f ~ /go-chi\//) return "chi router, cors and middleware"
  if (f ~ /todo\/adapters\/httpapi\./) return "httpapi: handlers and middleware"
  if (f ~ /todo\/application\./) return "application: use case"
  if (f ~ /^net\/http\.|^net\/textproto\.|^bufio\./) return "net/http server"
  if (f ~ /^net\./) return "net"
  return ""
}
function flush(   b, i) {
  if (val == 0) return
  b = ""
  if (stack ~ /runtime\.gcBgMarkWorker|runtime\.bgsweep|runtime\.bgscavenge/) b = "GC: background mark and sweep"
  else if (frames[1] ~ /[Ss]yscall/) {
    for (i = 1; i <= nf && b == ""; i++) {
      if (frames[i] ~ /jackc\/pgx|pgconn/) b = "syscalls: PostgreSQL socket"
      else if (frames[i] ~ /^net\/http\./) b = "syscalls: client socket"
    }
    if (b == "") b = "syscalls: other (epoll, futex, timers)"
  } else {
    for (i = 1; i <= nf && b == ""; i++) b = owner(frames[i])
    if (b == "" && stack ~ /runtime\.(schedule|findRunnable|netpoll|park_m|mcall|goschedImpl|mstart)/) b = "Go scheduler and netpoll"
    if (b == "") b = "runtime, other"
  }
  sum[b] += val; total += val
  val = 0; stack = ""; nf = 0
}
/^-+\+-+/ { flush(); next }
/^ *[0-9.]+(ms|s|us|µs|ns) +[^ ]/ {
  flush()
  v = $1
  if (v ~ /ms$/) { sub(/ms$/, "", v); v = v + 0 }
  else if (v ~ /us$|µs$/) { sub(/(us|µs)$/, "", v); v = v / 1000 }
  else if (v ~ /ns$/) { sub(/ns$/, "", v); v = v / 1e6 }
  else { sub(/s$/, "", v); v = v * 1000 }
  val = v
  nf = 1; frames[1] = $2; stack = $2 "\n"
  next
}
/^ +[^ ]/ { if (val > 0) { frames[++nf] = $1; stack = stack $1 "\n" }; next }
END {
  flush()
  n = 0
  for (b in sum) keys[++n] = b
  for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (sum[keys[j]] > sum[keys[i]]) { t = keys[i]; keys[i] = keys[j]; keys[j] = t }
  printf "%6s  %7s  %s\n", "share", "ms", "where"
  for (i = 1; i <= n; i++) printf "%5.1f%%  %7.0f  %s\n", sum[keys[i]] / total * 100, sum[keys[i]], keys[i]
  printf "%5.1f%%  %7.0f  %s\n", 100, total, "all samples"
}
