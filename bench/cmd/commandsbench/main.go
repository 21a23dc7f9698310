// Command commandsbench compares, against a running service, one
// POST .../commands of 100 task.create commands with the same 100 tasks
// created by 100 single POST .../tasks, one after another on one
// connection (an offline queue flushed either way), in interleaved rounds
// of one run. bench.sh runs it for the "commands" scenario (issue 17) and
// prints its line; the ratio, not the milliseconds, is the figure.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"time"
)

func main() {
	url := flag.String("url", "", "the service's base URL")
	user := flag.String("user", "", "the user id")
	token := flag.String("token", "", "a bearer token of the user")
	rounds := flag.Int("rounds", 10, "rounds of each, interleaved")
	flag.Parse()
	c := &http.Client{Timeout: 30 * time.Second}
	post := func(path string, body any) (int, error) {
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest(http.MethodPost, *url+"/api/"+*user+path, bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+*token)
		req.Header.Set("Content-Type", "application/json")
		res, err := c.Do(req)
		if err != nil {
			return 0, err
		}
		defer res.Body.Close()
		_, _ = io.Copy(io.Discard, res.Body)
		return res.StatusCode, nil
	}
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "commandsbench:", err)
		os.Exit(1)
	}
	var batch, single []time.Duration
	for r := range *rounds + 1 { // round 0 warms up
		cmds := make([]map[string]any, 100)
		for i := range cmds {
			cmds[i] = map[string]any{"id": fmt.Sprintf("bench-%d-%d-%d", time.Now().UnixNano(), r, i), "type": "task.create",
				"temp_id": fmt.Sprint("t", i), "args": map[string]any{"title": fmt.Sprint("queued ", i)}}
		}
		start := time.Now()
		if st, err := post("/commands", map[string]any{"commands": cmds}); err != nil || st != http.StatusOK {
			fail(fmt.Errorf("commands: %d %v", st, err))
		}
		b := time.Since(start)
		start = time.Now()
		for i := range 100 {
			if st, err := post("/tasks", map[string]any{"title": fmt.Sprint("single ", i)}); err != nil || st != http.StatusCreated {
				fail(fmt.Errorf("create: %d %v", st, err))
			}
		}
		s := time.Since(start)
		if r > 0 {
			batch, single = append(batch, b), append(single, s)
		}
	}
	med := func(d []time.Duration) float64 {
		slices.Sort(d)
		return float64(d[len(d)/2].Microseconds()) / 1000
	}
	mb, ms := med(batch), med(single)
	fmt.Printf("100-command batch %.1f ms, 100 single POSTs %.1f ms (medians of %d interleaved rounds, one connection): batch ÷ singles = %.2f\n",
		mb, ms, *rounds, mb/ms)
}
