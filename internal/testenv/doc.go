// Package testenv is the plumbing the process-level suites (test/e2e,
// test/reliability) and the adapters' tests share: it builds the todo-api
// binary once per test process, hands out loopback ports, runs child
// processes with a clean environment and captured output, polls HTTP
// endpoints, creates a throwaway PostgreSQL database per test, puts a TCP
// proxy that can refuse or black-hole traffic in front of it, and applies
// the CI rule (a missing dependency skips a test locally and fails it when
// CI=true). It holds no tests.
package testenv
