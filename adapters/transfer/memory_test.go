package transfer

import (
	"fmt"
	"io"
	"runtime"
	"testing"
	"time"
)

// TestWritersStreamInConstantMemory writes 100,000 generated tasks with
// every field (20,000 under the race detector or -short) to a counting
// io.Writer with each writer and measures the live heap (after a GC) at a
// tenth of them and at the end: a writer that kept what it wrote, or
// buffered the file, would hold ~50 MB more at the end. No timing is
// asserted.
func TestWritersStreamInConstantMemory(t *testing.T) {
	n := 100_000
	if raceOn || testing.Short() {
		n = 20_000
	}
	first := n / 10
	zones := []string{"Europe/Paris", "America/New_York", "Asia/Kolkata", ""}
	base := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	lists := func(yield func(List, error) bool) {
		for i := range 20 {
			if !yield(List{Ref: fmt.Sprint(i), Name: fmt.Sprintf("List %d", i)}, nil) {
				return
			}
		}
	}
	for name, write := range map[string]func(io.Writer, Source) error{
		"json": WriteJSON,
		"csv":  WriteCSV,
		"ics":  func(w io.Writer, s Source) error { return WriteICS(w, s, ICSOptions{Host: "example.org"}) },
	} {
		t.Run(name, func(t *testing.T) {
			var at10k, atEnd uint64
			live := func() uint64 {
				runtime.GC()
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				return m.HeapAlloc
			}
			before := live()
			tasks := func(yield func(Task, error) bool) {
				for i := range n {
					desc := fmt.Sprintf("Description of task %d, with a few words ✓", i)
					done := base.Add(time.Duration(i) * time.Minute)
					task := Task{
						Ref: fmt.Sprint(i), ListRef: fmt.Sprint(i % 20), Title: fmt.Sprintf("Task number %d: =SUM(A1) 日本", i),
						Description: &desc, Completed: i%3 == 0, CompletedAt: &done, Priority: PriorityHigh,
						Due:  DueAt(base.Add(time.Duration(i)*time.Hour), zones[i%len(zones)]),
						Tags: []string{"work", "home"}, Position: "m123V",
						Recurrence: &Recurrence{Rule: "FREQ=WEEKLY;BYDAY=FR", From: FromDue},
						Reminders:  []Reminder{{Before: "PT15M"}, {At: done}}, CreatedAt: base, UpdatedAt: done,
					}
					if i > 0 && i%5 != 0 {
						task.ParentRef = fmt.Sprint(i - i%5)
					}
					if !yield(task, nil) {
						return
					}
					switch i + 1 {
					case first:
						at10k = live()
					case n:
						atEnd = live()
					}
				}
			}
			cw := &countingWriter{}
			if err := write(cw, Source{ExportedAt: base, Lists: lists, Tasks: tasks}); err != nil {
				t.Fatal(err)
			}
			growth := int64(atEnd) - int64(at10k)
			t.Logf("%s: %d tasks, %.1f MiB written; live heap before %.2f MiB, at %d tasks %.2f MiB, at %d %.2f MiB (growth %+.1f KiB)",
				name, n, float64(cw.n)/(1<<20), mib(before), first, mib(at10k), n, mib(atEnd), float64(growth)/1024)
			if growth > 1<<20 {
				t.Errorf("the live heap grew by %d bytes from %d to %d tasks; a streaming writer holds one task", growth, first, n)
			}
		})
	}
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }
