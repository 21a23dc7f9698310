package mw

import "testing"

// TestProxiesTrusts: the peer decides, in any notation of its address.
func TestProxiesTrusts(t *testing.T) {
	p, err := NewProxies([]string{"10.0.0.0/8", "2001:db8::/32"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		remote string
		want   bool
	}{
		{"10.1.2.3:5000", true},
		{"10.1.2.3", true},
		{"[::ffff:10.1.2.3]:5000", true}, // IPv4 written as IPv6
		{"[2001:db8::1%eth0]:5000", true},
		{"[2001:db8::1]:5000", true},
		{"192.0.2.7:4000", false},
		{"[::ffff:192.0.2.7]:4000", false},
		{"11.0.0.1:80", false},
		{"", false},
		{"not an address", false},
	} {
		if got := p.Trusts(tt.remote); got != tt.want {
			t.Errorf("Trusts(%q) = %v, want %v", tt.remote, got, tt.want)
		}
	}
	none, _ := NewProxies(nil)
	if none.Trusts("10.1.2.3:5000") {
		t.Errorf("with no Proxies, Trusts(10.1.2.3:5000) = true, want false")
	}
	if _, err := NewProxies([]string{"10.0.0.1"}); err == nil {
		t.Errorf("newProxies(10.0.0.1) = nil error, want one (not a prefix)")
	}
}
