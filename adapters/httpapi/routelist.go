package httpapi

// Route is one operation of the route table, for the tests that must cover
// every route (the authorization matrices: a route added to routes.go is
// then covered, or named as missing, without editing them).
type Route struct {
	ID, Method, Path string
	Public           bool // needs no token
}

// Routes lists the route table (routes.go).
func Routes() []Route {
	var out []Route
	for _, rt := range (&handlers{}).routes() {
		out = append(out, Route{ID: rt.id, Method: rt.method, Path: rt.path, Public: rt.public})
	}
	return out
}
