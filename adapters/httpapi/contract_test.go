package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestContractCatchesMismatches feeds the contract check made-up exchanges,
// so that a harness which lets everything through cannot pass for one that
// checks.
func TestContractCatchesMismatches(t *testing.T) {
	t.Parallel()
	const task = `{"id":1,"user_id":"u_1","title":"t","description":null,"completed":false,` +
		`"created_at":"2026-01-05T10:00:00Z","updated_at":"2026-01-05T10:00:00Z",` +
		`"priority":"medium","due_date":null,"tags":[],"completed_at":null,"version":1,` +
		`"list_id":null,"parent_id":null,"position":"z0000000000000000001",` +
		`"due_tz":null,"due_floating":false,"recurrence":null,"reminders":[],"created_by":"u_1","assignee_id":null}`
	get := request{method: http.MethodGet, path: "/api/u_1/tasks/1", token: "t"}
	list := request{method: http.MethodGet, path: "/api/u_1/tasks", token: "t"}
	post := request{method: http.MethodPost, path: "/api/u_1/tasks", token: "t", body: `{"title": "x"}`}
	modify := func(r request, f func(*request)) request { f(&r); return r }
	unknown := request{method: http.MethodGet, path: "/nope", outsideDoc: true}

	tests := []struct {
		name    string
		r       request
		status  int
		body    string
		wantErr bool
	}{
		{"a task", get, 200, task, false},
		{"a list", list, 200, "[" + task + "]", false},
		{"an empty list", list, 200, "[]", false},
		{"a 404", get, 404, `{"detail":"Task not found"}`, false},
		{"a 422", post, 422, `{"detail":[{"loc":["body","title"],"msg":"m","type":"missing"}]}`, false},
		{"a 204", modify(get, func(r *request) { r.method = http.MethodDelete }), 204, "", false},
		{"an unknown route", unknown, 404, `{"detail":"Not Found"}`, false},
		{"a wrong method", modify(list, func(r *request) { r.method, r.outsideDoc = http.MethodPatch, true }), 405, `{"detail":"Method Not Allowed"}`, false},

		{"a task due on a day", get, 200, strings.Replace(task, `"due_date":null`, `"due_date":"2026-03-01"`, 1), false},
		{"a task due at an instant", get, 200, strings.Replace(task, `"due_date":null`, `"due_date":"2026-03-01T10:00:00.5Z"`, 1), false},
		{"a task with tags", get, 200, strings.Replace(task, `"tags":[]`, `"tags":["home","Work"]`, 1), false},
		{"a list with headers", list, 200, "[" + task + "]", false},
		{"stats", request{method: http.MethodGet, path: "/api/u_1/tasks/stats?tz=Europe/Paris", token: "t"}, 200,
			`{"total":1,"completed":0,"pending":1,"overdue":0,"due_today":0,"by_priority":{"low":0,"medium":1,"high":0},"tz":"Europe/Paris"}`, false},
		{"tags", request{method: http.MethodGet, path: "/api/u_1/tags", token: "t"}, 200, `[{"name":"home","count":2}]`, false},

		{"a task in a list, under a parent", get, 200, strings.Replace(task, `"list_id":null,"parent_id":null`, `"list_id":3,"parent_id":12`, 1), false},
		{"a task without title", get, 200, strings.Replace(task, `"title":"t",`, "", 1), true},
		{"a task without position", get, 200, strings.Replace(task, `,"position":"z0000000000000000001"`, "", 1), true},
		{"a task with list_id 0", get, 200, strings.Replace(task, `"list_id":null`, `"list_id":0`, 1), true},
		{"a task without priority", get, 200, strings.Replace(task, `"priority":"medium",`, "", 1), true},
		{"a task with another priority", get, 200, strings.Replace(task, `"priority":"medium"`, `"priority":"urgent"`, 1), true},
		{"a task with an upper-case priority", get, 200, strings.Replace(task, `"priority":"medium"`, `"priority":"HIGH"`, 1), true},
		{"a task with null tags", get, 200, strings.Replace(task, `"tags":[]`, `"tags":null`, 1), true},
		{"a task due at midnight with an offset", get, 200, strings.Replace(task, `"due_date":null`, `"due_date":"2026-03-01T00:00:00+02:00"`, 1), true},
		{"a task with a key of its own", get, 200, strings.Replace(task, `"tags":[]`, `"tags":[],"colour":"red"`, 1), true},
		{"stats without a count", request{method: http.MethodGet, path: "/api/u_1/tasks/stats", token: "t"}, 200,
			`{"total":1,"completed":0,"pending":1,"overdue":0,"by_priority":{"low":0,"medium":1,"high":0},"tz":"UTC"}`, true},
		{"a tag without a count", request{method: http.MethodGet, path: "/api/u_1/tags", token: "t"}, 200, `[{"name":"home"}]`, true},
		{"a list with a bad limit", modify(list, func(r *request) { r.path += "?limit=0" }), 422,
			`{"detail":[{"loc":["query","limit"],"msg":"m","type":"value_error"}]}`, true},
		{"a list with a bad priority", modify(list, func(r *request) { r.path += "?priority=urgent" }), 422,
			`{"detail":[{"loc":["query","priority"],"msg":"m","type":"enum"}]}`, true},
		{"a task with a string id", get, 200, strings.Replace(task, `"id":1`, `"id":"1"`, 1), true},
		{"a task with a null completed", get, 200, strings.Replace(task, `"completed":false`, `"completed":null`, 1), true},
		{"a task with a bad time", get, 200, strings.Replace(task, `"created_at":"2026-01-05T10:00:00Z"`, `"created_at":"yesterday"`, 1), true},
		{"an undeclared status", get, 418, `{"detail":"teapot"}`, true},
		{"a 201 from GET", get, 201, task, true},
		{"a null list", list, 200, "null", true},
		{"an object for a list", list, 200, `{"detail":"x"}`, true},
		{"a 404 in the 422 shape", get, 404, `{"detail":[{"loc":["path","id"],"msg":"m","type":"t"}]}`, true},
		{"a 422 with a plain detail", post, 422, `{"detail":"bad"}`, true},
		{"a 422 item without type", post, 422, `{"detail":[{"loc":["body"],"msg":"m"}]}`, true},
		{"a 401 without detail", get, 401, `{"error":"unauthorized"}`, true},
		{"an unknown route in another shape", unknown, 404, `{"error":"not found"}`, true},
		{"an unknown route answering 200", unknown, 200, `{"detail":"x"}`, true},
		{"a request without a token", modify(get, func(r *request) { r.token = "" }), 401, `{"detail":"Not authenticated"}`, true},
		{"a request body against the schema", modify(post, func(r *request) { r.body = `{"title": 5}` }), 422,
			`{"detail":[{"loc":["body","title"],"msg":"m","type":"string_type"}]}`, true},
		{"a bad status query", modify(list, func(r *request) { r.path += "?status=done" }), 422,
			`{"detail":[{"loc":["query","status"],"msg":"m","type":"enum"}]}`, true},
		{"an id below 1", modify(get, func(r *request) { r.path = "/api/u_1/tasks/0" }), 404, `{"detail":"Task not found"}`, true},
		{"an undocumented route marked as documented", modify(unknown, func(r *request) { r.outsideDoc = false }), 404, `{"detail":"Not Found"}`, true},
	}
	for _, c := range contracts(t) {
		for _, tt := range tests {
			got := &response{status: tt.status, header: http.Header{}, body: []byte(tt.body)}
			if tt.body != "" {
				got.header.Set("Content-Type", "application/json")
			}
			errs := c.check(t.Context(), tt.r, got)
			if (len(errs) > 0) != tt.wantErr {
				t.Errorf("%s: check(%s: %s %s -> %d %s) = %v, want mismatch %v", c.name, tt.name, tt.r.method, tt.r.path, tt.status, tt.body, errs, tt.wantErr)
			}
		}
	}
}
