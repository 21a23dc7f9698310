package reliability

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/todo-backend/todo/internal/testenv"
)

// TestEventsMemberAcrossInstances (issue 19): two binaries on one
// PostgreSQL database. A member of a shared list, with a stream on B,
// hears of the owner's task created on A in that list (the writer notifies
// every recipient with a watcher), and of the tombstone when its
// membership ends. The membership is a list_members row written directly:
// the membership routes are another part of the issue.
func TestEventsMemberAcrossInstances(t *testing.T) {
	heavy(t)
	t.Parallel()
	dbURL := testenv.PostgresDatabase(t)
	a, b := startTwoReady(t, "DATABASE_URL="+dbURL, "LOG_LEVEL=warn")
	ctx := context.Background()
	owner, member := newUser(t), newUser(t)
	ca := newClient(a.URL, 15*time.Second)
	defer ca.close()
	o := ca.do(ctx, http.MethodPost, "/api/"+owner.id+"/lists", owner.token, map[string]string{"name": "Groceries"})
	var l struct {
		ID int64 `json:"id"`
	}
	if o.status != http.StatusCreated || json.Unmarshal(o.body, &l) != nil || l.ID == 0 {
		t.Fatalf("create list on A: %v", o)
	}
	conn := connect(t, dbURL)
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "INSERT INTO list_members (list_id, user_id, role, invited_by, created_at) VALUES ($1, $2, 'editor', $3, now())",
		l.ID, member.id, owner.id); err != nil {
		t.Fatal(err)
	}
	onB := openEvents(t, b, member, "")

	o = ca.do(ctx, http.MethodPost, owner.tasks(), owner.token, map[string]any{"title": "milk", "list_id": l.ID})
	tk, err := o.task()
	if o.status != http.StatusCreated || err != nil {
		t.Fatalf("create on A: %v", o)
	}
	isTask := func(op string) func(sseEvent) bool {
		return func(ev sseEvent) bool {
			return ev.name == "" && ev.entity == "task" && ev.op == op && ev.taskID == tk.ID
		}
	}
	onB.waitFor(t, "the member's stream on B, the owner's task created on A", isTask("upsert"))

	if _, err := conn.Exec(ctx, "DELETE FROM list_members WHERE list_id = $1 AND user_id = $2", l.ID, member.id); err != nil {
		t.Fatal(err)
	}
	onB.waitFor(t, "the member's stream on B, the tombstone of the task when the membership ends", isTask("delete"))
}
