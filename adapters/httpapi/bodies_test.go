package httpapi_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
)

// TestIntegersOutOfRange: an id that is no int64 is FastAPI's problem at
// its place, never the decoder's words (issue 14 item 6); an integer
// written as 1.0 or 1e3 is that integer.
func TestIntegersOutOfRange(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.newUser(t)
	for _, id := range []string{"9223372036854775808", "-9223372036854775809", "123456789012345678901234567890", "1e19", "1e999"} {
		for _, path := range []string{u.tasks() + "/bulk-delete", u.tasks() + "/bulk"} {
			body := fmt.Sprintf(`{"ids": [1, %s], "set": {"completed": true}}`, id)
			res := e.do(t, request{method: methodOf(path), path: path, token: u.token, body: body, outsideDoc: true})
			ps := wantProblems(t, path+" "+body, res, []any{"body", "ids", 1})
			if len(ps) != 1 || ps[0].Type != "int_parsing" || !strings.HasPrefix(ps[0].Msg, "Input should be a valid integer") {
				t.Errorf("%s %s: problems %+v, want one int_parsing at [body ids 1]", path, body, ps)
			}
		}
	}
	tk := e.create(t, u, "by another spelling")
	res := e.do(t, request{method: http.MethodPost, path: u.tasks() + "/bulk-delete", token: u.token, outsideDoc: true,
		body: fmt.Sprintf(`{"ids": [%d.0, %de0]}`, tk.ID, tk.ID)})
	wantStatus(t, "bulk-delete of 1.0", res, http.StatusOK)
	if !strings.Contains(string(res.body), `"trashed":1`) {
		t.Errorf("bulk-delete of %d.0 = %s, want it trashed", tk.ID, res.body)
	}
}

func methodOf(path string) string {
	if strings.HasSuffix(path, "/bulk") {
		return http.MethodPatch
	}
	return http.MethodPost
}

// TestJunkBodyMemory: a 1 MiB body of nested empty arrays in a member the
// API does not know is skipped unread: the request allocates a small part
// of what decoding it into generic values did (about 25 MB), and is
// created. (The drill in test/reliability holds 40 at once in the real
// binary.)
func TestJunkBodyMemory(t *testing.T) {
	e := newEnv(t)
	u := e.newUser(t)
	junk := []byte(`{"title":"a","x":[` + strings.Repeat("[],", (1<<20-25)/3) + `[]]}`)
	send := func() int {
		req := httptest.NewRequest(http.MethodPost, u.tasks(), bytes.NewReader(junk))
		req.Header.Set("Authorization", "Bearer "+u.token)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		e.handler.ServeHTTP(rec, req)
		return rec.Code
	}
	if code := send(); code != http.StatusCreated { // warm up
		t.Fatalf("POST 1 MiB of junk = %d, want 201", code)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	code := send()
	runtime.ReadMemStats(&after)
	if code != http.StatusCreated {
		t.Fatalf("POST 1 MiB of junk = %d, want 201", code)
	}
	const bound = 4 << 20
	if got := after.TotalAlloc - before.TotalAlloc; got > bound {
		t.Errorf("POST of %d bytes of junk allocated %d bytes, want at most %d", len(junk), got, bound)
	} else {
		t.Logf("POST of %d bytes of junk allocated %d bytes", len(junk), got)
	}
}
