package application

import "errors"

// ErrUnavailable means the storage could not be reached or did not answer in
// time: connection refused or lost, a timeout, a database that is shutting
// down or busy. Nothing was wrong with the request; the same request may
// succeed later, so clients get 503 with Retry-After, not 500. Storage
// adapters wrap their drivers' errors in it, so that the HTTP layer can
// answer it without knowing SQL.
var ErrUnavailable = errors.New("storage unavailable")
