package contract

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"testing"
)

// TestCommandsOfflineQueues is issue 17's property test: two devices of
// one user queue writes offline, on tasks of their own and on shared
// tasks, and send them in random batches, interleaved at random,
// resending batches at random, sometimes both at once. The shared edits
// are made on version 1 and merge: device 0 sets the title, device 1 the
// description (so the first of each device's edits of a task applies and
// its later ones conflict with it), and each adds a tag of its own
// (tags_add, never a conflict). Whatever the schedule: no task is created
// twice, every edit that conflicts with nothing is present (own tasks'
// titles, every tag, one title and one description per shared task), and
// every conflict was answered 409 naming the field to the device that
// sent it.
func TestCommandsOfflineQueues(t *testing.T) {
	t.Parallel()
	for name, open := range commandAPIs {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			for seed := range uint64(4) {
				checkOfflineQueues(t, open(t), seed)
			}
		})
	}
}

type sentCommand struct {
	id, temp, title string
	shared          int64 // the shared task it edits, or 0
	field, tag      string
}

func checkOfflineQueues(t *testing.T, hs []http.Handler, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 17))
	c := newCommandClient(t)
	var shared []int64
	for i := range 3 {
		code, raw := c.do(hs[0], http.MethodPost, "/tasks", map[string]any{"title": fmt.Sprint("shared ", i)})
		var tk cmdTask
		if code != http.StatusCreated || json.Unmarshal(raw, &tk) != nil {
			t.Fatalf("create shared: %d %s", code, raw)
		}
		shared = append(shared, tk.ID)
	}
	// Each device's queue, cut into batches.
	type device struct {
		batches [][]map[string]any
		cmds    []sentCommand
		results map[string]cmdResult
		mapping map[string]int64
	}
	devices := []*device{{results: map[string]cmdResult{}, mapping: map[string]int64{}}, {results: map[string]cmdResult{}, mapping: map[string]int64{}}}
	for d, dev := range devices {
		for b := range 4 + rng.IntN(4) {
			var batch []map[string]any
			for k := range 1 + rng.IntN(3) {
				temp := fmt.Sprintf("s%d-d%d-b%d-k%d", seed, d, b, k)
				create := sentCommand{id: temp + "-c", temp: temp, title: temp}
				edit := sentCommand{id: temp + "-u", temp: temp, title: temp + " edited"}
				batch = append(batch,
					map[string]any{"id": create.id, "type": "task.create", "temp_id": temp, "args": map[string]any{"title": create.title}},
					map[string]any{"id": edit.id, "type": "task.update", "entity_id": temp, "args": map[string]any{"title": edit.title}})
				dev.cmds = append(dev.cmds, create, edit)
			}
			s := shared[rng.IntN(len(shared))]
			field := []string{"title", "description"}[d]
			conflict := sentCommand{id: fmt.Sprintf("s%d-d%d-b%d-shared", seed, d, b), title: fmt.Sprintf("device %d batch %d", d, b), shared: s,
				field: field, tag: fmt.Sprintf("d%d-b%d", d, b)}
			batch = append(batch, map[string]any{"id": conflict.id, "type": "task.update", "entity_id": s, "base_version": 1,
				"args": map[string]any{field: conflict.title, "tags_add": []string{conflict.tag}}})
			dev.cmds = append(dev.cmds, conflict)
			dev.batches = append(dev.batches, batch)
		}
	}
	// send sends batch b of device d again; its answer is lost, but for a
	// check: every command's result is the first one, replayed.
	send := func(d int, b int, h http.Handler) cmdResponse {
		out, err := c.send(h, map[string]any{"commands": devices[d].batches[b]})
		if err != nil {
			t.Error(err)
		}
		return out
	}
	check := func(d int, out cmdResponse, concurrent bool) {
		for id, r := range out.Results {
			first := devices[d].results[id]
			if first.Status != r.Status || (!concurrent && !r.Replayed) || (first.Replayed == r.Replayed && !r.Replayed) {
				t.Errorf("seed %d: %s answered %d (replayed %v), first %d (replayed %v)", seed, id, r.Status, r.Replayed, first.Status, first.Replayed)
			}
		}
	}
	record := func(d, b int) {
		out, err := c.send(hs[0], map[string]any{"commands": devices[d].batches[b]})
		if err != nil {
			t.Fatal(err)
		}
		for id, r := range out.Results {
			devices[d].results[id] = r
		}
		for k, v := range out.TempIDMapping {
			devices[d].mapping[k] = v
		}
	}
	next := []int{0, 0}
	for next[0] < len(devices[0].batches) || next[1] < len(devices[1].batches) {
		d := rng.IntN(2)
		if next[d] == len(devices[d].batches) {
			d = 1 - d
		}
		b := next[d]
		switch rng.IntN(4) {
		case 0: // sent twice at once, the answer of one lost
			var wg sync.WaitGroup
			var other cmdResponse
			h := hs[rng.IntN(len(hs))]
			wg.Go(func() { other = send(d, b, h) })
			record(d, b)
			wg.Wait()
			check(d, other, true)
		case 1: // the answer lost: sent again later
			lost := send(d, b, hs[rng.IntN(len(hs))])
			record(d, b)
			for id, r := range lost.Results {
				if got := devices[d].results[id]; got.Status != r.Status || r.Replayed || !got.Replayed {
					t.Errorf("seed %d: %s answered %d then %d (replayed %v)", seed, id, r.Status, got.Status, got.Replayed)
				}
			}
		default:
			record(d, b)
		}
		next[d]++
		if p := rng.IntN(next[d] + 1); p < next[d] && rng.IntN(3) == 0 { // an old batch resent
			check(d, send(d, p, hs[rng.IntN(len(hs))]), false)
		}
	}

	tasks := map[int64]cmdTask{}
	for _, tk := range c.tasks(hs[0]) {
		tasks[tk.ID] = tk
	}
	creates := 0
	applied := map[string][]string{} // by shared task and field
	for d, dev := range devices {
		for _, sc := range dev.cmds {
			r, ok := dev.results[sc.id]
			switch {
			case !ok:
				t.Errorf("seed %d device %d: no result for %s", seed, d, sc.id)
			case sc.shared != 0:
				key := fmt.Sprint(sc.shared, sc.field)
				switch {
				case r.Status == http.StatusOK:
					applied[key] = append(applied[key], sc.title)
				case r.Status != http.StatusConflict || fmt.Sprint(r.Conflicts) != "["+sc.field+"]":
					t.Errorf("seed %d: shared edit %s answered %d conflicts %v, want 200 or 409 naming %s", seed, sc.id, r.Status, r.Conflicts, sc.field)
				}
				if !slices.Contains(tasks[sc.shared].Tags, sc.tag) {
					t.Errorf("seed %d: shared task %d has tags %v, without %s's %q", seed, sc.shared, tasks[sc.shared].Tags, sc.id, sc.tag)
				}
			case sc.shared == 0 && sc.title == sc.temp:
				creates++
			case sc.shared == 0: // an edit of its own task: present
				if tk := tasks[dev.mapping[sc.temp]]; r.Status != http.StatusOK || tk.Title != sc.title {
					t.Errorf("seed %d: edit %s answered %d, task is %+v, want title %q", seed, sc.id, r.Status, tk, sc.title)
				}
			}
		}
	}
	if len(tasks) != creates+len(shared) {
		t.Errorf("seed %d: %d tasks, want %d (%d created once each, %d shared)", seed, len(tasks), creates+len(shared), creates, len(shared))
	}
	sent := map[string]bool{}
	for _, dev := range devices {
		for _, sc := range dev.cmds {
			if sc.shared != 0 {
				sent[fmt.Sprint(sc.shared, sc.field)] = true
			}
		}
	}
	for _, s := range shared {
		for _, field := range []string{"title", "description"} {
			a := applied[fmt.Sprint(s, field)]
			got := tasks[s].Title
			if field == "description" {
				got = deref(tasks[s].Description)
			}
			switch {
			case sent[fmt.Sprint(s, field)] && len(a) != 1:
				t.Errorf("seed %d: shared task %d took %d %s edits made on version 1, want 1: %q", seed, s, len(a), field, a)
			case len(a) == 1 && got != a[0]:
				t.Errorf("seed %d: shared task %d has %s %q, want the edit that applied, %q", seed, s, field, got, a[0])
			}
		}
	}
}
