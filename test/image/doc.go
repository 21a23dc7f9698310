// Package image tests what ships: the container image that `make image`
// builds from Containerfile, run with buildah the way an orchestrator would
// run it, and the Kubernetes manifests in deploy/, checked against the
// binary's ports, probe paths and shutdown drain. All of it lives in _test.go
// files; this file only names the package.
package image
