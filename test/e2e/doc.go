// Package e2e tests the built todo-api binary from the outside: it starts the
// binary on a free loopback port with each storage kind, talks to it with a
// client that knows only the API contract, and proves that tokens from a real
// Better Auth server (the Node project in betterauth/) are accepted and that
// forged ones are not. All of it lives in _test.go files; this file only
// names the package.
package e2e
