// Package position makes the keys of a manual order (drag and drop): keys
// that sort byte-wise, where a new key can always be made between two others,
// so that moving an item writes that item alone and never renumbers its
// siblings (fractional indexing).
//
// A key is a string over the 62 digits 0-9, A-Z, a-z, which ASCII orders as
// their values, read as the digits of a fraction after the point: "V" is
// about one half, "0V" about one 124th. A key never ends in '0', so that
// there is always room below it ("1" and "10" would have nothing between).
//
// New items go to the bottom of their scope without reading it: their key is
// Implicit(id), "z" followed by the id in 19 decimal digits, so ids (which
// only grow) keep them in creation order below every other key. The keys
// this package makes keep that true: a key it makes above "z" extends the
// implicit key of an item already in the scope (its first ImplicitLen
// characters are that key), so a task created later, with a larger id,
// still sorts below it. Stores keep no key for an item never moved and
// compute Implicit(id) in SQL (a generated column); see the sqlstore
// adapter.
//
// The package is hand-written: no maintained Go library for fractional keys
// is on the module proxy, and the algorithm (the midpoint of two base-62
// fractions) is short; the property tests hold it to its promises.
package position

import (
	"errors"
	"fmt"
	"strings"
)

// Digits are the digits of a key, in the order of their values, which is
// also their byte order.
const Digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

const base = len(Digits)

// Bounds on keys.
const (
	// MaxLen is the longest key a store keeps.
	MaxLen = 64
	// RebalanceLen is the length past which a new key asks for its scope
	// to be rebalanced (NeedsRebalance): well under MaxLen, so that the
	// keys made while a rebalance is pending still fit.
	RebalanceLen = 48
	// ImplicitLen is the length of an implicit key: "z" and 19 digits.
	ImplicitLen = 20
)

// ErrInvalid means a string is not a key this package could have made.
var ErrInvalid = errors.New("invalid position key")

// Implicit is the key of an item never moved: "z" and its id in 19 decimal
// digits. Stores compute the same in SQL; a test holds the two equal.
func Implicit(id int64) string {
	var b [ImplicitLen]byte
	return string(AppendImplicit(b[:0], id))
}

// AppendImplicit appends Implicit(id) to b: a list of tasks writes every
// key of its page into one buffer this way, instead of making a string per
// task.
func AppendImplicit(b []byte, id int64) []byte {
	if id < 0 {
		return fmt.Appendf(b, "z%019d", id) // no store assigns one; as Sprintf wrote it
	}
	b = append(b, 'z')
	var digits [19]byte
	for i := len(digits) - 1; i >= 0; i-- {
		digits[i] = byte('0' + id%10)
		id /= 10
	}
	return append(b, digits[:]...)
}

// Rebalanced is the key of the item at rank (0, 1, 2, ...) of a rebalanced
// scope: short, evenly spaced, below every implicit key, and room between
// each two. Stores compute the same in SQL (one statement re-keys a scope);
// a test holds the two equal.
func Rebalanced(rank int64) string {
	return fmt.Sprintf("m%010dV", rank)
}

// Valid reports whether k is a key: 1 to MaxLen digits, not ending in '0',
// or an implicit key (which may: Between never needs room inside one, it
// extends the one below instead).
func Valid(k string) bool {
	if isImplicit(k) {
		return true
	}
	if k == "" || len(k) > MaxLen || k[len(k)-1] == '0' {
		return false
	}
	for i := 0; i < len(k); i++ {
		if value(k[i]) < 0 {
			return false
		}
	}
	return true
}

func isImplicit(k string) bool {
	if len(k) != ImplicitLen || k[0] != 'z' {
		return false
	}
	for i := 1; i < len(k); i++ {
		if k[i] < '0' || k[i] > '9' {
			return false
		}
	}
	return true
}

// NeedsRebalance reports whether k is long enough that its scope should be
// re-keyed.
func NeedsRebalance(k string) bool { return len(k) > RebalanceLen }

// Between returns a key strictly between a and b. Either may be "": a ""
// means the top of the scope (nothing before), b "" the bottom. a must sort
// before b. Above "z" (among implicit keys and their extensions) the key
// extends a's implicit prefix, so that items created later still sort
// below it (see the package documentation).
func Between(a, b string) (string, error) {
	if (a != "" && !Valid(a)) || (b != "" && !Valid(b)) {
		return "", fmt.Errorf("%w: between %q and %q", ErrInvalid, a, b)
	}
	if a != "" && b != "" && a >= b {
		return "", fmt.Errorf("%w: %q does not sort before %q", ErrInvalid, a, b)
	}
	if a >= "z" {
		if len(a) < ImplicitLen {
			return "", fmt.Errorf("%w: %q is above \"z\" but extends no implicit key", ErrInvalid, a)
		}
		// a is an implicit key or an extension of one: stay inside its
		// prefix. b, above a, is one too; when it shares the prefix, stay
		// below it, otherwise anything after a in the prefix is below b.
		prefix, rest := a[:ImplicitLen], a[ImplicitLen:]
		var bRest string
		if b != "" && strings.HasPrefix(b, prefix) {
			bRest = b[ImplicitLen:]
		}
		return prefix + midpoint(rest, bRest), nil
	}
	if b == "" || b > "z" {
		// Below every implicit key: anything under "z" that is above a.
		b = "z"
	}
	return midpoint(a, b), nil
}

// After returns a key for an item placed after k, the last item of its
// scope (nothing between k and the bottom).
func After(k string) (string, error) { return Between(k, "") }

// Before returns a key for an item placed before k, the first item of its
// scope.
func Before(k string) (string, error) { return Between("", k) }

// Spread returns n keys, in order, strictly between a and b (as Between
// reads them), for n items moved together into one gap.
func Spread(a, b string, n int) ([]string, error) {
	if n < 0 {
		return nil, fmt.Errorf("%w: %d keys", ErrInvalid, n)
	}
	out := make([]string, n)
	if err := spread(a, b, out); err != nil {
		return nil, err
	}
	return out, nil
}

// spread fills out with keys between a and b, bisecting so that the keys
// stay short (log n digits more than a and b, not n).
func spread(a, b string, out []string) error {
	if len(out) == 0 {
		return nil
	}
	mid := len(out) / 2
	k, err := Between(a, b)
	if err != nil {
		return err
	}
	out[mid] = k
	if err := spread(a, k, out[:mid]); err != nil {
		return err
	}
	return spread(k, b, out[mid+1:])
}

// value is the value of digit c, -1 when c is not a digit.
func value(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'A' <= c && c <= 'Z':
		return int(c-'A') + 10
	case 'a' <= c && c <= 'z':
		return int(c-'a') + 36
	}
	return -1
}

// digitAt is digit i of fraction a, '0' past its end.
func digitAt(a string, i int) byte {
	if i < len(a) {
		return a[i]
	}
	return '0'
}

// midpoint returns the shortest-ish fraction strictly between a and b, read
// as base-62 fractions; b "" stands for 1. a < b, and neither ends in '0'
// (a may be "", which is 0). The result never ends in '0'.
func midpoint(a, b string) string {
	if b != "" {
		// A common prefix (a read with trailing zeros) is kept as it is.
		n := 0
		for n < len(b) && digitAt(a, n) == b[n] {
			n++
		}
		if n > 0 {
			return b[:n] + midpoint(a[min(n, len(a)):], b[n:])
		}
	}
	// The first digits differ (or b is 1).
	da := 0
	if a != "" {
		da = value(a[0])
	}
	db := base
	if b != "" {
		db = value(b[0])
	}
	if db-da > 1 {
		return string(Digits[(da+db)/2])
	}
	// Consecutive first digits: b's first digit alone is between when b
	// has more digits; otherwise keep a's first digit and go on after it.
	if len(b) > 1 {
		return b[:1]
	}
	rest := ""
	if a != "" {
		rest = a[1:]
	}
	return string(Digits[da]) + midpoint(rest, "")
}
