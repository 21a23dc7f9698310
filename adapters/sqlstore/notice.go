package sqlstore

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/domain/auth"
)

// The payload of a change notification (channel application.ChangeChannel)
// is lines "<n> <rest>", n a decimal number, read by this rule:
//
//   - n > 0: a head line, "<seq> <user id>": the user's change head is
//     seq. This is the whole of the first format (a line per head, since
//     migration 20261214000010), and a head line still means the same on
//     its own: read the feed up to seq.
//   - n = 0: an extension of the head line just before it; rest starts
//     with a letter that says which. Extensions a listener does not know,
//     or that follow no head line, it leaves out (the head line stands
//     without them). No head is 0 (a user's first change is 1), so a
//     listener of the first format takes an extension line for the head 0
//     of a user whom nobody watches, and wakes no one.
//   - "0 k<from>" then " <key>" per change: the keys (second format): the
//     feed's entries after from up to the head, every one of them, oldest
//     first (application.KeyRun); a key is "<seq><entity><op><id>", the
//     entity t (task) or l (list), the op u (upsert) or d (delete). A
//     stream that has sent up to a number between from and the head sends
//     the keys above it and does not read the feed.
//
// A head and its keys are never split between notifications. The
// publisher writes them in SQL (publishSQL); encodeNotices in the tests is
// the same in Go.

// changeNotice is one head of a notification, with its keys when the
// publisher sent them.
type changeNotice struct {
	owner auth.UserID
	head  application.Seq
	keys  *application.KeyRun // nil: the head alone
}

// maxPayload is the most bytes a payload holds (PostgreSQL refuses 8000
// and more).
const maxPayload = 7999

// decodeNotices calls each with the heads of payload, in order, each with
// its keys when they came and are well formed; bad hears of each line it
// could not read (the head of a bad keys line is still told, without
// them).
func decodeNotices(payload string, each func(changeNotice), bad func(error)) {
	var cur changeNotice
	have := false
	for line := range strings.Lines(payload) {
		line = strings.TrimSuffix(line, "\n")
		if rest, ok := strings.CutPrefix(line, "0 "); ok {
			if !have || rest == "" || rest[0] != 'k' || cur.keys != nil {
				continue // not for this version, or no head to extend
			}
			keys, err := parseKeys(rest[1:], cur.head)
			if err != nil {
				bad(err)
				continue
			}
			cur.keys = keys
			continue
		}
		if have {
			each(cur)
		}
		owner, seq, err := parseChangeNotice(line)
		if err != nil {
			have = false
			bad(err)
			continue
		}
		cur, have = changeNotice{owner: owner, head: seq}, true
	}
	if have {
		each(cur)
	}
}

// parseKeys reads "<from>[ <key>...]", the keys of head (see above): from
// below head, the keys' numbers rising, above from and at most head.
func parseKeys(s string, head application.Seq) (*application.KeyRun, error) {
	bad := func() (*application.KeyRun, error) {
		return nil, fmt.Errorf("notification keys %.60q of head %d are not \"<from>[ <seq><t|l><u|d><id>...]\"", s, head)
	}
	f, rest, _ := strings.Cut(s, " ")
	from, err := strconv.ParseUint(f, 10, 64)
	if err != nil || application.Seq(from) >= head {
		return bad()
	}
	run := &application.KeyRun{From: application.Seq(from), Changes: make([]application.Change, 0, strings.Count(rest, " ")+1)}
	last := run.From
	for rest != "" {
		var k string
		k, rest, _ = strings.Cut(rest, " ")
		i := 0
		for i < len(k) && k[i] >= '0' && k[i] <= '9' {
			i++
		}
		if i == 0 || i+2 >= len(k) {
			return bad()
		}
		seq, err := strconv.ParseUint(k[:i], 10, 64)
		if err != nil || application.Seq(seq) <= last || application.Seq(seq) > head {
			return bad()
		}
		c := application.Change{Seq: application.Seq(seq)}
		switch k[i] {
		case 't':
			c.Entity = application.EntityTask
		case 'l':
			c.Entity = application.EntityList
		default:
			return bad()
		}
		switch k[i+1] {
		case 'u':
			c.Op = application.OpUpsert
		case 'd':
			c.Op = application.OpDelete
		default:
			return bad()
		}
		if c.ID, err = strconv.ParseInt(k[i+2:], 10, 64); err != nil {
			return bad()
		}
		run.Changes = append(run.Changes, c)
		last = c.Seq
	}
	return run, nil
}
