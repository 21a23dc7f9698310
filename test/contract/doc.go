// Package contract holds the suites every implementation of a port must pass:
// the same tests run against the memory, SQLite and PostgreSQL adapters, so
// that they cannot drift apart. It has tests only.
package contract
