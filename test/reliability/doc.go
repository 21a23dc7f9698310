// Package reliability runs the fault drills of docs/RELIABILITY.md against
// the built todo-api binary: SIGTERM under load, a database outage through a
// TCP proxy the test cuts, start-up with the database down, a slow-loris
// client, two instances on one database, kill -9 during keyed creates, and a
// soak (make soak). Each drill logs its figures ("figures: ..."); go test -v
// shows them. All of it lives in _test.go files; this file only names the
// package.
package reliability
