// Package store names what any storage adapter may report whatever it keeps
// data in, so that the HTTP layer can answer it without knowing SQL.
package store

import "errors"

// ErrUnavailable means the storage could not be reached or did not answer in
// time: connection refused or lost, a timeout, a database that is shutting
// down or busy. Nothing was wrong with the request; the same request may
// succeed later, so clients get 503 with Retry-After, not 500.
var ErrUnavailable = errors.New("storage unavailable")
