// Package sharing proves that shared lists (issue 19) keep isolation
// airtight: a matrix of every route of the router, every role a caller may
// hold on a shared list and every store, built from the route table and
// list.Role.Allows, and the race between a member's writes and their
// removal on PostgreSQL. The service runs as cmd/api wires it
// (bootstrap.App), in the test process. It has tests only.
package sharing
