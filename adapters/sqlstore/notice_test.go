package sqlstore

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/domain/auth"
)

// encodeNotices and the functions below write payloads as publishSQL does
// (their reference, for the tests of decodeNotices).

// keyLetters is the entity's and the op's letters of c's key; ok false
// for an entity or op the format has no letter for.
func keyLetters(c application.Change) (e, o byte, ok bool) {
	switch c.Entity {
	case application.EntityTask:
		e = 't'
	case application.EntityList:
		e = 'l'
	default:
		return 0, 0, false
	}
	switch c.Op {
	case application.OpUpsert:
		o = 'u'
	case application.OpDelete:
		o = 'd'
	default:
		return 0, 0, false
	}
	return e, o, true
}

// appendNotice appends n's lines, each ending with a newline; its keys
// are left out when one of them has no letters.
func appendNotice(b []byte, n changeNotice) []byte {
	b = strconv.AppendUint(b, uint64(n.head), 10)
	b = append(b, ' ')
	b = append(b, n.owner...)
	b = append(b, '\n')
	if n.keys == nil {
		return b
	}
	head := len(b)
	b = append(b, "0 k"...)
	b = strconv.AppendUint(b, uint64(n.keys.From), 10)
	for _, c := range n.keys.Changes {
		e, o, ok := keyLetters(c)
		if !ok {
			return b[:head]
		}
		b = append(b, ' ')
		b = strconv.AppendUint(b, uint64(c.Seq), 10)
		b = append(b, e, o)
		b = strconv.AppendInt(b, c.ID, 10)
	}
	return append(b, '\n')
}

// encodeNotices returns the payloads of ns, in their order, each of at
// most limit bytes (maxPayload when limit is 0) and without its last
// newline: as many heads in each as fit. A head whose lines alone exceed
// limit goes without its keys (a head line fits: a user id is at most
// auth.MaxUserIDBytes).
func encodeNotices(ns []changeNotice, limit int) []string {
	if limit <= 0 {
		limit = maxPayload
	}
	var out []string
	var cur, one []byte
	for _, n := range ns {
		one = appendNotice(one[:0], n)
		if len(one)-1 > limit && n.keys != nil {
			n.keys = nil
			one = appendNotice(one[:0], n)
		}
		if len(cur) > 0 && len(cur)+len(one)-1 > limit {
			out = append(out, string(cur[:len(cur)-1]))
			cur = cur[:0]
		}
		cur = append(cur, one...)
	}
	if len(cur) > 0 {
		out = append(out, string(cur[:len(cur)-1]))
	}
	return out
}

func key(seq application.Seq, e application.Entity, op application.Op, id int64) application.Change {
	return application.Change{Seq: seq, Entity: e, Op: op, ID: id}
}

// decodeAll decodes payloads in order and returns the heads and the
// errors.
func decodeAll(payloads ...string) ([]changeNotice, []error) {
	var got []changeNotice
	var errs []error
	for _, p := range payloads {
		decodeNotices(p, func(n changeNotice) { got = append(got, n) }, func(err error) { errs = append(errs, err) })
	}
	return got, errs
}

// TestNoticeRoundTrip: heads with and without keys (tasks and lists,
// upserts and tombstones, a user id with spaces and quotes, an empty run)
// come back as they were sent, in order; the wire form is the one
// documented.
func TestNoticeRoundTrip(t *testing.T) {
	t.Parallel()
	ns := []changeNotice{
		{owner: "alice", head: 7, keys: &application.KeyRun{From: 5, Changes: []application.Change{
			key(6, application.EntityTask, application.OpUpsert, 42),
			key(7, application.EntityList, application.OpDelete, 3),
		}}},
		{owner: "bob", head: 12},
		{owner: `u "x" {y}, \z`, head: 18446744073709551615, keys: &application.KeyRun{From: 18446744073709551614, Changes: []application.Change{
			key(18446744073709551615, application.EntityTask, application.OpDelete, 9223372036854775807),
		}}},
		{owner: "carol", head: 3, keys: &application.KeyRun{From: 1, Changes: []application.Change{}}},
	}
	payloads := encodeNotices(ns, 0)
	if len(payloads) != 1 {
		t.Fatalf("%d payloads, want 1: %q", len(payloads), payloads)
	}
	want := "7 alice\n0 k5 6tu42 7ld3\n12 bob\n18446744073709551615 u \"x\" {y}, \\z\n0 k18446744073709551614 18446744073709551615td9223372036854775807\n3 carol\n0 k1"
	if payloads[0] != want {
		t.Errorf("payload\n%q\nwant\n%q", payloads[0], want)
	}
	got, errs := decodeAll(payloads...)
	if len(errs) > 0 {
		t.Fatalf("errors: %v", errs)
	}
	if !reflect.DeepEqual(got, ns) {
		t.Errorf("decoded %+v\nwant %+v", got, ns)
	}
}

// TestNoticeFormats: the first format's lines (a head per line, from a
// publisher before the keys, or a writer's trigger before
// 20261214000010) still read as heads alone; extension lines this version
// does not know, or that follow no head, are left out without an error;
// a malformed keys line is an error and its head comes without keys; an
// extension line, read by a listener of the first format (parseChangeNotice
// alone), is head 0 of a user nobody watches.
func TestNoticeFormats(t *testing.T) {
	t.Parallel()
	head := func(u string, s application.Seq) changeNotice { return changeNotice{owner: auth.UserID(u), head: s} }
	for _, tc := range []struct {
		name, payload string
		want          []changeNotice
		errs          int
	}{
		{"one pair", "5 u listen 1", []changeNotice{head("u listen 1", 5)}, 0},
		{"pairs", "5 a\n6 b\n", []changeNotice{head("a", 5), head("b", 6)}, 0},
		{"unknown extension", "5 a\n0 z whatever 1 2\n6 b", []changeNotice{head("a", 5), head("b", 6)}, 0},
		{"keys before any head", "0 k1 2tu3\n6 b", []changeNotice{head("b", 6)}, 0},
		{"keys after a bad head", "x a\n0 k1 2tu3\n6 b", []changeNotice{head("b", 6)}, 1},
		{"second keys line", "5 a\n0 k4 5tu1\n0 k3 5tu1", []changeNotice{{owner: "a", head: 5, keys: &application.KeyRun{From: 4, Changes: []application.Change{key(5, application.EntityTask, application.OpUpsert, 1)}}}}, 0},
		{"key above the head", "5 a\n0 k4 6tu1", []changeNotice{head("a", 5)}, 1},
		{"key at from", "5 a\n0 k4 4tu1 5tu2", []changeNotice{head("a", 5)}, 1},
		{"keys not rising", "5 a\n0 k2 4tu1 3tu2", []changeNotice{head("a", 5)}, 1},
		{"from at the head", "5 a\n0 k5", []changeNotice{head("a", 5)}, 1},
		{"unknown entity", "5 a\n0 k4 5xu1", []changeNotice{head("a", 5)}, 1},
		{"unknown op", "5 a\n0 k4 5tx1", []changeNotice{head("a", 5)}, 1},
		{"no id", "5 a\n0 k4 5tu", []changeNotice{head("a", 5)}, 1},
		{"double space", "5 a\n0 k4  5tu1", []changeNotice{head("a", 5)}, 1},
		{"bad head", "5a", nil, 1},
	} {
		got, errs := decodeAll(tc.payload)
		if !reflect.DeepEqual(got, tc.want) || len(errs) != tc.errs {
			t.Errorf("%s: %q -> %+v, errors %v; want %+v, %d errors", tc.name, tc.payload, got, errs, tc.want, tc.errs)
		}
	}
	if u, s, err := parseChangeNotice("0 k4 5tu1 6ld2"); err != nil || s != 0 || u != "k4 5tu1 6ld2" {
		t.Errorf("a first-format listener reads a keys line as %q, %d, %v; want head 0 of a user no one watches", u, s, err)
	}
}

// TestNoticeSplit: heads that do not fit one notification are split across
// as many as needed, each within the limit (PostgreSQL refuses 8000
// bytes), a head never parted from its keys, nothing lost or reordered; a
// head whose keys alone would not fit goes without them.
func TestNoticeSplit(t *testing.T) {
	t.Parallel()
	var ns []changeNotice
	for i := range 200 {
		n := changeNotice{owner: auth.UserID(fmt.Sprintf("%03d %s", i, strings.Repeat("x", 200))), head: application.Seq(1000 + i)}
		if i%3 != 0 {
			run := &application.KeyRun{From: n.head - 8}
			for s := n.head - 7; s <= n.head; s++ {
				run.Changes = append(run.Changes, key(s, application.EntityTask, application.OpUpsert, int64(s)*1000003))
			}
			n.keys = run
		}
		ns = append(ns, n)
	}
	big := changeNotice{owner: "big", head: 5000, keys: &application.KeyRun{From: 1}}
	for s := application.Seq(2); s <= 5000; s++ {
		big.keys.Changes = append(big.keys.Changes, key(s, application.EntityList, application.OpDelete, int64(s)))
	}
	ns = append(ns, big, changeNotice{owner: "after", head: 1})
	payloads := encodeNotices(ns, 0)
	if len(payloads) < 8 {
		t.Errorf("%d payloads for %d bytes of heads, want them split", len(payloads), len(strings.Join(payloads, "\n")))
	}
	for i, p := range payloads {
		if len(p) > maxPayload {
			t.Errorf("payload %d: %d bytes, over %d", i, len(p), maxPayload)
		}
		if strings.HasPrefix(p, "0 ") {
			t.Errorf("payload %d starts with keys parted from their head: %.60q", i, p)
		}
	}
	got, errs := decodeAll(payloads...)
	if len(errs) > 0 {
		t.Fatalf("errors: %v", errs)
	}
	want := append([]changeNotice(nil), ns...)
	want[len(want)-2].keys = nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("decoded %d heads, want the %d sent, in order, the big one without keys", len(got), len(want))
	}
	// A small limit: one head per payload, each with its keys.
	small := encodeNotices(ns[1:4], 400)
	if len(small) != 3 {
		t.Errorf("limit 400: %d payloads, want 3: %q", len(small), small)
	}
	if got, _ := decodeAll(small...); !reflect.DeepEqual(got, ns[1:4]) {
		t.Errorf("limit 400: decoded %+v, want %+v", got, ns[1:4])
	}
}
