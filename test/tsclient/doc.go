// Package tsclient checks that the service's OpenAPI document is usable by the
// frontend's tools: openapi-typescript (pinned in package.json) generates
// types from it, and client.ts, a frontend-style client written against those
// types, type-checks with tsc. The package has no code besides its test.
package tsclient
