package reliability

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/todo-backend/todo/internal/testenv"
)

// The move drill of issue 15: many clients drag the tasks of one list about
// at once, on two instances sharing PostgreSQL (and on SQLite, one
// instance), and afterwards the order is whole and every acknowledged move
// is where it said it was.

// moveDrillDuration is MOVE_DRILL_DURATION (the drill: 10s), or 2s,
// the short drill every `go test` runs.
func moveDrillDuration(t *testing.T) time.Duration {
	t.Helper()
	v := os.Getenv("MOVE_DRILL_DURATION")
	if v == "" {
		return 2 * time.Second
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < time.Second {
		t.Fatalf("MOVE_DRILL_DURATION=%q: want a duration of at least 1s such as 10s", v)
	}
	return d
}

const (
	moveClients = 32 // concurrent clients, spread over the instances
	moveTasks   = 40 // tasks in the list, all top-level at the start
)

// placed is what a task body says of where the task is.
type placed struct {
	ID       int64  `json:"id"`
	ListID   *int64 `json:"list_id"`
	ParentID *int64 `json:"parent_id"`
	Position string `json:"position"`
	Version  int64  `json:"version"`
}

func (p placed) parent() int64 {
	if p.ParentID == nil {
		return 0
	}
	return *p.ParentID
}

// moveKind is how a drill move names the place.
type moveKind string

const (
	moveAfter  moveKind = "after"  // right after a task, under its (last seen) parent
	moveBefore moveKind = "before" // right before a task, under its parent
	moveTop    moveKind = "top"    // the top of the list's top level
	moveNest   moveKind = "nest"   // the top of another task's subtasks
	moveStay   moveKind = "stay"   // the top of its own siblings
)

// moveTry is one move a client sent and what came of it.
type moveTry struct {
	task   int64
	kind   moveKind
	anchor int64 // after, before: the sibling; nest: the new parent
	sent   time.Time
	acked  time.Time // when the answer came
	status int
	got    placed // the task as a 200 returned it
	body   string // the answer, for the report
}

// TestConcurrentMoves is the drill. "Lost" is defined by what a client
// could rely on once a move answered 200 (its ack, with the task's new
// version, parent and position):
//
//  1. the task's last acknowledged move (its highest version) is where it
//     ends: same parent, same version, and the same position unless its
//     scope was rebalanced since (a rebalance re-keys a scope in the same
//     order and changes no version; a move answers with the rebalanced key
//     when its key asked for one); a task never acknowledged as moved ends
//     as it began (version 1);
//  2. its final version is one plus its acknowledged moves: each 200 is
//     one write of its own, and nothing was written without an answer;
//  3. the relation the move asked for still holds, unless a later
//     acknowledged move changed it: after A (before A) means that A, when
//     A was last placed before the move was sent, ends in the same scope
//     just below (above) the task, and any task that ends between them was
//     last placed by a move that had not been answered when this one was
//     sent; the top of a scope means the same of every task above it.
//
// Besides: every position in each scope is distinct, every task is in
// exactly one place (once in the list, under a parent that is in it, no
// cycle, at most 4 levels), and no request failed with a 5xx or without
// an answer. 422s (an anchor moved away, a cycle, a fifth level) are
// expected and counted.
func TestConcurrentMoves(t *testing.T) {
	heavy(t)
	t.Parallel()
	d := moveDrillDuration(t)
	t.Run("postgres, two instances", func(t *testing.T) {
		t.Parallel()
		dbURL := testenv.PostgresDatabase(t)
		a, b := startTwoReady(t, "DATABASE_URL="+dbURL, "LOG_LEVEL=warn")
		runMoveDrill(t, d, a.URL, b.URL)
	})
	t.Run("sqlite, one instance", func(t *testing.T) {
		t.Parallel()
		a := startReady(t, "todo-api", "DATABASE_URL=sqlite:"+t.TempDir()+"/todo.db", "LOG_LEVEL=warn")
		runMoveDrill(t, d, a.URL)
	})
}

func runMoveDrill(t *testing.T, d time.Duration, urls ...string) {
	ctx := context.Background()
	clients := make([]*client, len(urls))
	for i, u := range urls {
		clients[i] = newClient(u, 15*time.Second)
		defer clients[i].close()
	}
	u := newUser(t)
	o := clients[0].do(ctx, http.MethodPost, "/api/"+u.id+"/lists", u.token, map[string]string{"name": "drill"})
	var l struct{ ID int64 }
	if o.status != http.StatusCreated || json.Unmarshal(o.body, &l) != nil {
		t.Fatalf("create the list: %v", o)
	}
	initial := map[int64]placed{}
	var ids []int64
	for i := range moveTasks {
		o := clients[i%len(clients)].do(ctx, http.MethodPost, u.tasks(), u.token, map[string]any{"title": fmt.Sprintf("task %d", i), "list_id": l.ID})
		var p placed
		if o.status != http.StatusCreated || json.Unmarshal(o.body, &p) != nil {
			t.Fatalf("create task %d: %v", i, o)
		}
		initial[p.ID] = p
		ids = append(ids, p.ID)
	}

	// What the clients know of the tasks' parents: what the last answer
	// they saw said. Stale knowledge makes 422s, which is part of the drill.
	var seenMu sync.Mutex
	seen := map[int64]int64{}
	tries := make([][]moveTry, moveClients)
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for i := range moveClients {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(i), uint64(time.Now().UnixNano())))
			c := clients[i%len(clients)]
			for time.Now().Before(deadline) {
				tries[i] = append(tries[i], moveOnce(ctx, c, u, r, ids, &seenMu, seen))
			}
		})
	}
	wg.Wait()

	// The final state, as every instance reads it.
	var final map[int64]placed
	for i, c := range clients {
		o := c.do(ctx, http.MethodGet, fmt.Sprintf("%s?list_id=%d", u.tasks(), l.ID), u.token, nil)
		var ts []placed
		if o.status != http.StatusOK || json.Unmarshal(o.body, &ts) != nil {
			t.Fatalf("instance %d: list the tasks: %v", i, o)
		}
		got := map[int64]placed{}
		for _, p := range ts {
			if _, dup := got[p.ID]; dup {
				t.Errorf("instance %d lists task %d twice", i, p.ID)
			}
			got[p.ID] = p
		}
		if final == nil {
			final = got
		} else if !mapsEqual(final, got) {
			t.Errorf("instance %d reads another state than instance 0", i)
		}
	}
	var all []moveTry
	for _, ts := range tries {
		all = append(all, ts...)
	}
	for _, p := range append(checkPlaces(l.ID, initial, final), checkMoves(initial, final, all)...) {
		t.Error(p)
	}
	// Each scope as a list view reads it: the tasks of the list, once each,
	// in their order.
	scopes := map[int64][]placed{}
	for _, p := range final {
		scopes[p.parent()] = append(scopes[p.parent()], p)
	}
	viewed := 0
	for parent, want := range scopes {
		q := "none"
		if parent != 0 {
			q = fmt.Sprint(parent)
		}
		o := clients[0].do(ctx, http.MethodGet, fmt.Sprintf("%s?list_id=%d&parent_id=%s&sort=position", u.tasks(), l.ID, q), u.token, nil)
		var got []placed
		if o.status != http.StatusOK || json.Unmarshal(o.body, &got) != nil {
			t.Fatalf("list view under %d: %v", parent, o)
		}
		slices.SortFunc(want, func(a, b placed) int { return strings.Compare(a.Position, b.Position) })
		if !slices.EqualFunc(got, want, func(a, b placed) bool { return a.ID == b.ID }) {
			t.Errorf("list view under %d = %v, want %v", parent, got, want)
		}
		viewed += len(got)
	}
	if viewed != len(initial) {
		t.Errorf("the list views show %d tasks, want %d", viewed, len(initial))
	}
	reportMoves(t, d, len(urls), all)
}

// moveOnce sends one random move of a random task.
func moveOnce(ctx context.Context, c *client, u user, r *rand.Rand, ids []int64, mu *sync.Mutex, seen map[int64]int64) moveTry {
	x := ids[r.IntN(len(ids))]
	y := ids[r.IntN(len(ids))]
	for y == x {
		y = ids[r.IntN(len(ids))]
	}
	mu.Lock()
	yParent := seen[y]
	mu.Unlock()
	parent := func() any {
		if yParent == 0 {
			return nil
		}
		return yParent
	}
	m := moveTry{task: x, anchor: y}
	body := map[string]any{}
	switch n := r.IntN(100); {
	case n < 40:
		m.kind, body["after_id"], body["parent_id"] = moveAfter, y, parent()
	case n < 65:
		m.kind, body["before_id"], body["parent_id"] = moveBefore, y, parent()
	case n < 75:
		m.kind, m.anchor, body["parent_id"] = moveTop, 0, nil
	case n < 90:
		m.kind, body["parent_id"] = moveNest, y
	default:
		m.kind, m.anchor = moveStay, 0
	}
	o := c.do(ctx, http.MethodPost, fmt.Sprintf("%s/%d/move", u.tasks(), x), u.token, body)
	m.sent, m.acked, m.status, m.body = o.at, o.at.Add(o.took), o.status, string(o.body)
	if o.err != nil {
		m.body = o.err.Error()
	}
	if o.status == http.StatusOK && json.Unmarshal(o.body, &m.got) == nil {
		mu.Lock()
		seen[x] = m.got.parent()
		mu.Unlock()
	}
	return m
}

func mapsEqual(a, b map[int64]placed) bool {
	if len(a) != len(b) {
		return false
	}
	for id, p := range a {
		q, ok := b[id]
		if !ok || p.parent() != q.parent() || p.Position != q.Position || p.Version != q.Version {
			return false
		}
	}
	return true
}

// checkPlaces returns what breaks these: every task once, in the list,
// under a parent of the list, without a cycle, at most 4 levels deep;
// positions distinct per scope.
func checkPlaces(list int64, initial, final map[int64]placed) []string {
	var out []string
	fail := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	if len(final) != len(initial) {
		fail("the list has %d tasks, want %d", len(final), len(initial))
	}
	keys := map[[2]string]int64{}
	for id, p := range final {
		if _, ok := initial[id]; !ok {
			fail("task %d is in the list, but the drill made no such task", id)
		}
		if p.ListID == nil || *p.ListID != list {
			fail("task %d is in list %v, want %d", id, p.ListID, list)
		}
		k := [2]string{fmt.Sprint(p.parent()), p.Position}
		if other, dup := keys[k]; dup {
			fail("tasks %d and %d share position %q under %d", id, other, p.Position, p.parent())
		}
		keys[k] = id
		depth, at := 1, p
		for at.ParentID != nil {
			up, ok := final[*at.ParentID]
			if !ok {
				fail("task %d is under task %d, which is not in the list", at.ID, *at.ParentID)
				break
			}
			if depth++; depth > 4 {
				fail("task %d is more than 4 levels deep (or in a cycle)", id)
				break
			}
			at = up
		}
	}
	return out
}

// checkMoves holds the final state to the acknowledged moves and returns
// what breaks: see TestConcurrentMoves for what "lost" means.
func checkMoves(initial, final map[int64]placed, all []moveTry) []string {
	var out []string
	fail := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	last := map[int64]moveTry{} // each task's last acknowledged move
	acks := map[int64]int{}
	for _, m := range all {
		switch {
		case m.status == http.StatusOK:
			acks[m.task]++
			if cur, ok := last[m.task]; !ok || m.got.Version > cur.got.Version {
				last[m.task] = m
			} else if m.got.Version == cur.got.Version {
				fail("two moves of task %d answered version %d", m.task, m.got.Version)
			}
		case m.status == http.StatusUnprocessableEntity:
		default:
			fail("move of task %d (%s %d): %d %.300s", m.task, m.kind, m.anchor, m.status, m.body)
		}
	}
	// placedAt is when task id was last placed as it ends: its last
	// acknowledged move's answer, or the start (zero) when it never moved.
	placedAt := func(id int64) time.Time { return last[id].acked }
	// rebalanced are the answers that show a rebalance, by scope.
	rebalanced := map[int64][]time.Time{}
	for _, m := range all {
		if m.status == http.StatusOK && rebalancedKey.MatchString(m.got.Position) {
			rebalanced[m.got.parent()] = append(rebalanced[m.got.parent()], m.acked)
		}
	}
	for id, p := range final {
		want, moved := initial[id], false
		if m, ok := last[id]; ok {
			want, moved = m.got, true
		}
		rekeyed := p.Position != want.Position && slices.ContainsFunc(rebalanced[p.parent()], func(at time.Time) bool {
			return at.After(last[id].sent)
		})
		if p.parent() != want.parent() || p.Position != want.Position && !rekeyed || p.Version != want.Version {
			fail("lost move: task %d ends under %d at %q version %d; its last acknowledged placement (moved: %v) is under %d at %q version %d",
				id, p.parent(), p.Position, p.Version, moved, want.parent(), want.Position, want.Version)
		}
		if p.Version != int64(1+acks[id]) {
			fail("task %d ends at version %d after %d acknowledged moves, want %d", id, p.Version, acks[id], 1+acks[id])
		}
	}
	for id, m := range last {
		p := final[id]
		var lower, upper string // the gap the move put the task in, as it ends
		switch m.kind {
		case moveAfter, moveBefore:
			a, ok := final[m.anchor]
			if !placedAt(m.anchor).Before(m.sent) || !ok {
				continue // a later (or concurrent) move placed the anchor: exempt
			}
			if a.parent() != p.parent() {
				fail("task %d was moved %s task %d, which stayed put, but ends under %d, the anchor under %d", id, m.kind, m.anchor, p.parent(), a.parent())
				continue
			}
			lower, upper = a.Position, p.Position
			if m.kind == moveBefore {
				lower, upper = p.Position, a.Position
			}
			if lower >= upper {
				fail("task %d was moved %s task %d, which stayed put, but ends at %q, the anchor at %q", id, m.kind, m.anchor, p.Position, a.Position)
				continue
			}
		default: // the top of its scope
			upper = p.Position
		}
		for oid, o := range final {
			if oid == id || oid == m.anchor || o.parent() != p.parent() || o.Position <= lower || o.Position >= upper {
				continue
			}
			if placedAt(oid).Before(m.sent) {
				fail("task %d was moved %s %d (sent %v): task %d, placed at %q under %d before that and not moved since, ends between (%q, %q)",
					id, m.kind, m.anchor, m.sent.Format(time.StampMicro), oid, o.Position, o.parent(), lower, upper)
			}
		}
	}
	return out
}

// rebalancedKey is the shape of a key a rebalance gives
// (position.Rebalanced), which no move makes.
var rebalancedKey = regexp.MustCompile(`^m[0-9]{10}V$`)

// reportMoves logs the drill's figures.
func reportMoves(t *testing.T, d time.Duration, instances int, all []moveTry) {
	byStatus := map[int]int{}
	kinds := map[string]int{}
	var took []time.Duration
	rebalances := 0
	for _, m := range all {
		byStatus[m.status]++
		if m.status == http.StatusOK && rebalancedKey.MatchString(m.got.Position) {
			rebalances++
		}
		if m.status == http.StatusOK {
			took = append(took, m.acked.Sub(m.sent))
		}
		if m.status == http.StatusUnprocessableEntity {
			kinds[why(m.body)]++
		}
	}
	var reasons []string
	for k, n := range kinds {
		reasons = append(reasons, fmt.Sprintf("%s %d", k, n))
	}
	slices.SortFunc(reasons, func(a, b string) int { return cmp.Compare(a, b) })
	t.Logf("figures: %d clients on %d instance(s), %v of moves over %d tasks of one list: %d moves (%.0f/s), %d answered 200, "+
		"%d 422 (%s), other %d; %d answered with a rebalanced scope; 200 latency p50 %v p99 %v",
		moveClients, instances, d, moveTasks, len(all), float64(len(all))/d.Seconds(), byStatus[http.StatusOK],
		byStatus[http.StatusUnprocessableEntity], strings.Join(reasons, ", "), len(all)-byStatus[http.StatusOK]-byStatus[http.StatusUnprocessableEntity],
		rebalances, percentile(took, 50).Round(10*time.Microsecond), percentile(took, 99).Round(10*time.Microsecond))
}

// why is the kind of a 422's first problem, for the figures.
func why(body string) string {
	var p struct {
		Detail []struct {
			Msg string `json:"msg"`
		} `json:"detail"`
	}
	if json.Unmarshal([]byte(body), &p) != nil || len(p.Detail) == 0 {
		return "unreadable"
	}
	switch msg := p.Detail[0].Msg; {
	case strings.Contains(msg, "cycle"):
		return "cycle"
	case strings.Contains(msg, "levels"):
		return "too deep"
	case strings.Contains(msg, "where the tasks go"):
		return "anchor elsewhere"
	case strings.Contains(msg, "one of the tasks moved"):
		return "anchor is the task"
	default:
		return msg
	}
}
