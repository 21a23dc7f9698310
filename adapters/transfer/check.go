package transfer

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// maxRuleLen bounds an RRULE; real ones are well under 200 bytes.
const maxRuleLen = 500

// checkRule checks that an RRULE value is safe to carry in every format: a
// FREQ part, and only the characters the RFC 5545 grammar uses (so it can
// never break out of an iCalendar line or a CSV cell). What the rule means
// is the domain's business.
func checkRule(rule string) error {
	if rule == "" || len(rule) > maxRuleLen {
		return fmt.Errorf("recurrence rule must be 1 to %d characters", maxRuleLen)
	}
	for i := 0; i < len(rule); i++ {
		c := rule[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte("=;,:+-", c) >= 0) {
			return fmt.Errorf("recurrence rule %q has a character an RRULE cannot have", rule)
		}
	}
	if !strings.Contains(strings.ToUpper(rule), "FREQ=") {
		return fmt.Errorf("recurrence rule %q has no FREQ", rule)
	}
	return nil
}

// checkDuration checks an RFC 5545 duration without its sign: "P1W", or
// "P" [n "D"] ["T" n "H" [n "M" [n "S"]] | n "M" [n "S"] | n "S"] with at
// least one part. It is the ISO 8601 subset calendars understand.
func checkDuration(s string) error {
	bad := fmt.Errorf("%q is not a duration such as PT15M, PT1H30M, P1D or P1W", s)
	if len(s) < 3 || s[0] != 'P' {
		return bad
	}
	rest := s[1:]
	num := func() (int, bool) { // digits at the start of rest
		n := 0
		for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
			n++
		}
		if n == 0 || n > 9 {
			return 0, false
		}
		return n, true
	}
	if n, ok := num(); ok && n+1 == len(rest) && rest[n] == 'W' {
		return nil
	}
	if n, ok := num(); ok && n < len(rest) && rest[n] == 'D' {
		rest = rest[n+1:]
		if rest == "" {
			return nil
		}
	}
	if rest == "" || rest[0] != 'T' {
		return bad
	}
	rest = rest[1:]
	units := "HMS"
	parts := 0
	for rest != "" {
		n, ok := num()
		if !ok || n == len(rest) {
			return bad
		}
		u := strings.IndexByte(units, rest[n])
		if u < 0 {
			return bad
		}
		// RFC 5545 allows H, M, S in order with none skipped between two
		// given ones (PT1H5S is not in its grammar).
		if parts > 0 && u != 0 {
			return bad
		}
		units = units[u+1:]
		rest = rest[n+1:]
		parts++
	}
	if parts == 0 {
		return bad
	}
	return nil
}

// checkText refuses what no text field may hold: invalid UTF-8 and NUL.
func checkText(s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("is not valid UTF-8")
	}
	if strings.IndexByte(s, 0) >= 0 {
		return fmt.Errorf("contains a NUL character")
	}
	return nil
}

// problems collects a reader's problems up to a bound.
type problems struct {
	list []Problem
	max  int
}

func (p *problems) add(line int, field string, sev Severity, format string, args ...any) error {
	p.list = append(p.list, Problem{Line: line, Field: field, Msg: fmt.Sprintf(format, args...), Severity: sev})
	if len(p.list) > p.max {
		return &FileError{Line: line, Msg: fmt.Sprintf("more than %d problems; the file was not read further", p.max), Err: ErrTooManyErrors}
	}
	return nil
}

// linkDocument checks what ties a document together once every row is read:
// refs unique, every list_ref and parent_ref naming something in the
// document, no cycle, no deeper nesting than maxDepth, and a subtask in its
// parent's list. A task that breaks one is left out, with an error Problem
// at its line; so are its descendants, each with its own.
func linkDocument(d *Document, maxDepth int, p *problems) error {
	lists := make(map[string]bool, len(d.Lists))
	keptLists := d.Lists[:0]
	for _, l := range d.Lists {
		if lists[l.Ref] {
			if err := p.add(l.Line, "ref", SeverityError, "list ref %q is used twice", l.Ref); err != nil {
				return err
			}
			continue
		}
		lists[l.Ref] = true
		keptLists = append(keptLists, l)
	}
	d.Lists = keptLists

	index := make(map[string]int, len(d.Tasks))
	bad := make([]bool, len(d.Tasks))
	for i, t := range d.Tasks {
		if _, dup := index[t.Ref]; dup {
			bad[i] = true
			if err := p.add(t.Line, "ref", SeverityError, "task ref %q is used twice", t.Ref); err != nil {
				return err
			}
			continue
		}
		index[t.Ref] = i
	}
	// depth[i]: 0 unknown, -1 on the path being walked, else the level.
	depth := make([]int, len(d.Tasks))
	level := func(i int) (int, string) {
		// An iterative walk up the parents, so that a long chain cannot
		// exhaust the stack.
		var path []int
		fail := func(why string) (int, string) {
			for _, k := range path {
				depth[k] = 0
			}
			return 0, why
		}
		for j := i; depth[j] <= 0; {
			t := d.Tasks[j]
			switch {
			case bad[j]:
				return fail("its parent could not be read")
			case depth[j] == -1:
				return fail("its parents make a cycle")
			case t.ParentRef == "":
				depth[j] = 1
				continue
			}
			k, ok := index[t.ParentRef]
			if !ok && j == i {
				return fail(fmt.Sprintf("parent %q is not in the file", t.ParentRef))
			} else if !ok {
				return fail("its parent could not be read")
			}
			depth[j] = -1
			path = append(path, j)
			j = k
		}
		for n := len(path) - 1; n >= 0; n-- {
			k := path[n]
			depth[k] = depth[index[d.Tasks[k].ParentRef]] + 1
		}
		return depth[i], ""
	}
	drop := func(i int, field, why string) error {
		bad[i] = true
		return p.add(d.Tasks[i].Line, field, SeverityError, "task %q is left out: %s", d.Tasks[i].Title, why)
	}
	for i, t := range d.Tasks {
		if bad[i] {
			continue
		}
		n, why := level(i)
		field := "parent_ref"
		switch {
		case why != "":
		case n > maxDepth:
			why = fmt.Sprintf("it would be at level %d; subtasks go %d levels deep at most", n, maxDepth)
		case t.ListRef != "" && !lists[t.ListRef]:
			field, why = "list_ref", fmt.Sprintf("list %q is not in the file", t.ListRef)
		case t.ParentRef != "" && d.Tasks[index[t.ParentRef]].ListRef != t.ListRef:
			field, why = "list_ref", "a subtask must be in its parent's list"
		}
		if why != "" {
			if err := drop(i, field, why); err != nil {
				return err
			}
		}
	}
	// A task read before its parent was dropped is dropped now, and so on
	// down: nothing is kept with a parent that is not.
	for changed := true; changed; {
		changed = false
		for i, t := range d.Tasks {
			if bad[i] || t.ParentRef == "" || !bad[index[t.ParentRef]] {
				continue
			}
			changed = true
			if err := drop(i, "parent_ref", "its parent could not be read"); err != nil {
				return err
			}
		}
	}
	kept := d.Tasks[:0]
	for i, t := range d.Tasks {
		if !bad[i] {
			kept = append(kept, t)
		}
	}
	d.Tasks = kept
	return nil
}

// ParentsFirst returns the indexes of tasks in an order where every parent
// comes before its children (and otherwise the order of the slice), the
// order to create them in. Tasks whose parent is not in the slice come as if
// top level.
func ParentsFirst(tasks []Task) []int {
	children := make(map[string][]int, len(tasks))
	refs := make(map[string]bool, len(tasks))
	for _, t := range tasks {
		refs[t.Ref] = true
	}
	var roots []int
	for i, t := range tasks {
		if t.ParentRef != "" && refs[t.ParentRef] && t.ParentRef != t.Ref {
			children[t.ParentRef] = append(children[t.ParentRef], i)
		} else {
			roots = append(roots, i)
		}
	}
	out := make([]int, 0, len(tasks))
	seen := make([]bool, len(tasks))
	for _, r := range roots {
		stack := []int{r}
		for len(stack) > 0 {
			i := stack[0]
			stack = stack[1:]
			if seen[i] {
				continue
			}
			seen[i] = true
			out = append(out, i)
			stack = slices.Concat(children[tasks[i].Ref], stack)
		}
	}
	return out // tasks in a cycle are not reachable from a root: left out
}

// cleanTag makes a tag from another app's label what a tag here may be: no
// comma (the list filter separates tags with commas), so one becomes a
// space; changed says whether that happened, for a warning.
func cleanTag(tag string) (string, bool) {
	if !strings.ContainsRune(tag, ',') {
		return tag, false
	}
	return strings.TrimSpace(strings.ReplaceAll(tag, ",", " ")), true
}
