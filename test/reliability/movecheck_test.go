package reliability

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestMoveDrillChecks holds the drill's checks to made-up histories, so
// that a check that lets everything through cannot pass for one that
// checks: each broken history must be reported, each sound one not.
func TestMoveDrillChecks(t *testing.T) {
	const list = int64(1)
	l := list
	key := func(id int64) string { return fmt.Sprintf("z%019d", id) }
	at := func(id int64, parent int64, pos string, version int64) placed {
		p := placed{ID: id, ListID: &l, Position: pos, Version: version}
		if parent != 0 {
			p.ParentID = &parent
		}
		return p
	}
	initial := map[int64]placed{}
	for id := int64(1); id <= 4; id++ {
		initial[id] = at(id, 0, key(id), 1)
	}
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	// Task 4 moved right after task 1: between 1's key and 2's.
	after1 := key(1) + "V"
	move4 := moveTry{task: 4, kind: moveAfter, anchor: 1, sent: ms(10), acked: ms(20), status: http.StatusOK, got: at(4, 0, after1, 2)}
	with := func(base map[int64]placed, ps ...placed) map[int64]placed {
		out := map[int64]placed{}
		for id, p := range base {
			out[id] = p
		}
		for _, p := range ps {
			out[p.ID] = p
		}
		return out
	}
	rebalanced := map[int64]placed{
		3: at(3, 0, "m0000000000V", 2), 1: at(1, 0, "m0000000001V", 1), 4: at(4, 0, "m0000000002V", 2), 2: at(2, 0, "m0000000003V", 1),
	}
	cases := []struct {
		name  string
		final map[int64]placed
		moves []moveTry
		want  string // a substring of a problem; "" for none
	}{
		{"a move that landed", with(initial, move4.got), []moveTry{move4}, ""},
		{"a move lost", initial, []moveTry{move4}, "lost move"},
		{"a write without an answer", with(initial, at(4, 0, after1, 3)), []moveTry{move4}, "version"},
		{"a 500", with(initial, move4.got), []moveTry{move4, {task: 2, status: http.StatusInternalServerError}}, "500"},
		{"a refusal", with(initial, move4.got), []moveTry{move4, {task: 2, kind: moveNest, anchor: 3, status: http.StatusUnprocessableEntity}}, ""},
		// Task 3 was moved right after 1 too, acknowledged before 4's move
		// was sent, and ends between 1 and 4: 4's key was made from a
		// stale neighbour.
		{"a neighbour missed", with(initial, move4.got, at(3, 0, key(1)+"F", 2)), []moveTry{
			{task: 3, kind: moveAfter, anchor: 1, sent: ms(1), acked: ms(5), status: http.StatusOK, got: at(3, 0, key(1)+"F", 2)}, move4,
		}, "ends between"},
		// The same, but 3's move was still in flight: either order is right.
		{"a neighbour racing", with(initial, move4.got, at(3, 0, key(1)+"F", 2)), []moveTry{
			{task: 3, kind: moveAfter, anchor: 1, sent: ms(1), acked: ms(15), status: http.StatusOK, got: at(3, 0, key(1)+"F", 2)}, move4,
		}, ""},
		{"the anchor below", with(initial, at(4, 0, key(0), 2)), []moveTry{func() moveTry { m := move4; m.got = at(4, 0, key(0), 2); return m }()}, "the anchor at"},
		{"the top, not at the top", with(initial, at(4, 0, key(2)+"V", 2)), []moveTry{
			{task: 4, kind: moveTop, sent: ms(10), acked: ms(20), status: http.StatusOK, got: at(4, 0, key(2)+"V", 2)},
		}, "ends between"},
		// Task 3 moved to the top and its key asked for a rebalance: the
		// whole scope has new keys, in the same order, no new versions.
		{"a rebalance since", rebalanced, []moveTry{
			move4, {task: 3, kind: moveTop, sent: ms(30), acked: ms(40), status: http.StatusOK, got: rebalanced[3]},
		}, ""},
		{"keys changed without a rebalance", rebalanced, []moveTry{
			move4, {task: 3, kind: moveTop, sent: ms(30), acked: ms(40), status: http.StatusOK, got: at(3, 0, "0V", 2)},
		}, "lost move: task 1"},
		{"a shared position", with(initial, at(4, 0, key(1), 2)), []moveTry{func() moveTry { m := move4; m.got = at(4, 0, key(1), 2); return m }()}, "share position"},
		{"a task missing", func() map[int64]placed { f := with(initial); delete(f, 2); return f }(), nil, "has 3 tasks"},
		{"a cycle", with(initial, at(1, 2, key(1), 2), at(2, 1, key(2), 2)), []moveTry{
			{task: 1, kind: moveNest, anchor: 2, sent: ms(1), acked: ms(2), status: http.StatusOK, got: at(1, 2, key(1), 2)},
			{task: 2, kind: moveNest, anchor: 1, sent: ms(3), acked: ms(4), status: http.StatusOK, got: at(2, 1, key(2), 2)},
		}, "cycle"},
	}
	for _, tc := range cases {
		problems := append(checkPlaces(list, initial, tc.final), checkMoves(initial, tc.final, tc.moves)...)
		switch {
		case tc.want == "" && len(problems) > 0:
			t.Errorf("%s: %q, want no problem", tc.name, problems)
		case tc.want != "" && !strings.Contains(strings.Join(problems, "\n"), tc.want):
			t.Errorf("%s: %q, want one saying %q", tc.name, problems, tc.want)
		}
	}
}
