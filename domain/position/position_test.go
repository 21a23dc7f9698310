package position

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func TestImplicitAndRebalancedShapes(t *testing.T) {
	for _, id := range []int64{1, 10, 999, 1<<63 - 1} {
		k := Implicit(id)
		if len(k) != ImplicitLen || !Valid(k) || k < "z" {
			t.Errorf("Implicit(%d) = %q: want %d characters from \"z\"", id, k, ImplicitLen)
		}
	}
	if Implicit(9) >= Implicit(10) || Implicit(99) >= Implicit(100) {
		t.Errorf("implicit keys do not sort as their ids")
	}
	for _, r := range []int64{0, 1, 9, 10, 12345} {
		k := Rebalanced(r)
		if !Valid(k) || k >= "z" || NeedsRebalance(k) {
			t.Errorf("Rebalanced(%d) = %q: want a short valid key below \"z\"", r, k)
		}
		if next := Rebalanced(r + 1); next <= k {
			t.Errorf("Rebalanced(%d) = %q is not below Rebalanced(%d) = %q", r, k, r+1, next)
		}
	}
}

func TestBetweenCases(t *testing.T) {
	for _, tc := range []struct{ a, b string }{
		{"", ""}, {"", "1"}, {"", "01"}, {"1", "2"}, {"1", "10V"}, {"1V", "2"}, {"y", ""},
		{"", Implicit(5)}, {"V", Implicit(5)}, {Implicit(5), ""}, {Implicit(5), Implicit(6)},
		{Implicit(125), Implicit(200)}, {Implicit(5), Implicit(5) + "V"}, {Implicit(5) + "V", Implicit(6)},
		{Rebalanced(3), Rebalanced(4)}, {Rebalanced(3), Implicit(1)},
	} {
		k, err := Between(tc.a, tc.b)
		if err != nil {
			t.Errorf("Between(%q, %q): %v", tc.a, tc.b, err)
			continue
		}
		if !Valid(k) || (tc.a != "" && k <= tc.a) || (tc.b != "" && k >= tc.b) {
			t.Errorf("Between(%q, %q) = %q: not a valid key strictly between", tc.a, tc.b, k)
		}
	}
}

func TestBetweenRefuses(t *testing.T) {
	for _, tc := range []struct{ a, b string }{
		{"2", "1"}, {"1", "1"}, {"10", ""}, {"", "a-b"}, {"zV", ""}, {"z", ""}, {strings.Repeat("V", MaxLen+1), ""},
	} {
		if k, err := Between(tc.a, tc.b); err == nil {
			t.Errorf("Between(%q, %q) = %q, want an error", tc.a, tc.b, k)
		}
	}
}

// TestRandomScope drives one scope through random creates (implicit keys of
// growing ids), moves between neighbours, to the top and to the bottom, and
// group moves, and checks after each step that the keys are valid, distinct
// and in the order the moves asked for, and that a new item always lands
// at the bottom.
func TestRandomScope(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 200 {
		var keys []string // in order
		var nextID int64 = int64(round)*1000 + 1
		longest := 0
		for step := range 300 {
			var err error
			place := func(i int) { // insert a moved item at gap i (0 = top, len = bottom)
				a, b := "", ""
				if i > 0 {
					a = keys[i-1]
				}
				if i < len(keys) {
					b = keys[i]
				}
				var k string
				if k, err = Between(a, b); err == nil {
					keys = slices.Insert(keys, i, k)
				}
			}
			switch op := rng.IntN(10); {
			case op < 3 || len(keys) < 2:
				k := Implicit(nextID)
				nextID += 1 + int64(rng.IntN(3))
				if len(keys) > 0 && k <= keys[len(keys)-1] {
					t.Fatalf("round %d step %d: new key %q is not below the last %q", round, step, k, keys[len(keys)-1])
				}
				keys = append(keys, k)
			case op < 8: // move one item to a random gap
				from := rng.IntN(len(keys))
				keys = slices.Delete(keys, from, from+1)
				place(rng.IntN(len(keys) + 1))
			case op < 9: // always the same gap: keys grow fastest here
				keys = slices.Delete(keys, 0, 1)
				place(min(1, len(keys)))
			default: // a group of up to 5 into one gap
				n := min(1+rng.IntN(5), len(keys)-1)
				keys = keys[n:]
				i := rng.IntN(len(keys) + 1)
				a, b := "", ""
				if i > 0 {
					a = keys[i-1]
				}
				if i < len(keys) {
					b = keys[i]
				}
				var ks []string
				if ks, err = Spread(a, b, n); err == nil {
					keys = slices.Insert(keys, i, ks...)
				}
			}
			if err != nil {
				t.Fatalf("round %d step %d: %v", round, step, err)
			}
			for i, k := range keys {
				if !Valid(k) {
					t.Fatalf("round %d step %d: key %q is not valid", round, step, k)
				}
				if i > 0 && keys[i-1] >= k {
					t.Fatalf("round %d step %d: %q then %q: not strictly increasing", round, step, keys[i-1], k)
				}
				longest = max(longest, len(k))
			}
			// Rebalance as a store would once a key passes the bound.
			if slices.ContainsFunc(keys, NeedsRebalance) {
				for i := range keys {
					keys[i] = Rebalanced(int64(i))
				}
			}
		}
		if longest > MaxLen {
			t.Fatalf("round %d: a key of %d characters", round, longest)
		}
	}
}

func TestSameGapGrowsSlowly(t *testing.T) {
	// Moving items again and again just below the top item is the worst
	// case: each key goes between the top and the previous one.
	top, next := "V", "k"
	n := 0
	for ; n < 1000; n++ {
		k, err := Between(top, next)
		if err != nil {
			t.Fatal(err)
		}
		if NeedsRebalance(k) {
			break
		}
		next = k
	}
	if n < 200 {
		t.Errorf("a key passed %d characters after %d moves into one gap, want at least 200", RebalanceLen, n)
	}
	t.Logf("moves into one gap before a rebalance: %d", n)
}

func TestSpread(t *testing.T) {
	for _, n := range []int{0, 1, 2, 7, 100} {
		ks, err := Spread(Rebalanced(1), Rebalanced(2), n)
		if err != nil || len(ks) != n {
			t.Fatalf("Spread(.., %d) = %d keys, %v", n, len(ks), err)
		}
		prev := Rebalanced(1)
		for _, k := range ks {
			if !Valid(k) || k <= prev || k >= Rebalanced(2) || len(k) > len(Rebalanced(1))+8 {
				t.Fatalf("Spread(.., %d): key %q after %q out of place or long", n, k, prev)
			}
			prev = k
		}
	}
}

func FuzzBetween(f *testing.F) {
	f.Add("", "")
	f.Add("1", "2")
	f.Add(Implicit(7), Implicit(8))
	f.Fuzz(func(t *testing.T, a, b string) {
		k, err := Between(a, b)
		if err != nil {
			return
		}
		if !Valid(k) || (a != "" && k <= a) || (b != "" && k >= b) {
			t.Fatalf("Between(%q, %q) = %q", a, b, k)
		}
		if a >= "z" && !strings.HasPrefix(k, a[:ImplicitLen]) {
			t.Fatalf("Between(%q, %q) = %q left the implicit prefix", a, b, k)
		}
	})
}

// TestAppendImplicit holds the appender to the format it replaces, for
// every width of id.
func TestAppendImplicit(t *testing.T) {
	ids := []int64{0, 1, 9, 10, 99, 100, 1<<31 - 1, 1 << 31, 1<<63 - 1, -1, -1 << 63}
	for p := int64(1); p > 0 && p < 1e18; p *= 10 {
		ids = append(ids, p-1, p, p+1)
	}
	for _, id := range ids {
		want := fmt.Sprintf("z%019d", id)
		if got := Implicit(id); got != want {
			t.Errorf("Implicit(%d) = %q, want %q", id, got, want)
		}
		if got := string(AppendImplicit([]byte("x"), id)); got != "x"+want {
			t.Errorf("AppendImplicit(\"x\", %d) = %q, want %q", id, got, "x"+want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { _ = AppendImplicit(make([]byte, 0, 32)[:0], 12345) }); n > 1 {
		t.Errorf("AppendImplicit allocates %v times, want at most the buffer's", n)
	}
}
