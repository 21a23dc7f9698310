// Package browser holds tests that drive the built todo-api binary from a
// real headless Chromium (Debian's chromium package): the /docs page renders
// offline, and CORS lets the frontend's origin call the API and blocks other
// origins. The package has no code besides its tests and apibin.
package browser
