package image

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/x509"
	"debug/elf"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/todo-backend/todo/adapters/jwks"
	"github.com/todo-backend/todo/bootstrap"
	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/internal/testenv"
)

// maxImageBytes bounds the image's uncompressed size, so that an
// accidental dependency shows. Issue 9 asked for "under 25 MB" of the
// service then (a 23.6 MiB binary); Go 1.27 and what came since (lists,
// delivery of reminders, the import formats) took the binary past 25 MiB
// (25.0 MiB at 7c85ddb), so the bound is 32 MiB: about 10 MB compressed.
const maxImageBytes = 32 << 20

// testSecret signs the test's HS256 tokens (at least 32 characters).
const testSecret = "image-test-secret-not-for-production-0123456789"

// TestImage builds the image with `make image`, checks what it holds and how
// it is configured, then runs its entrypoint with buildah the way an
// orchestrator would and talks to it.
func TestImage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the container image (a minute or two); run without -short")
	}
	if os.Geteuid() != 0 {
		if _, err := exec.LookPath("buildah"); err != nil {
			testenv.Unavailable(t, "buildah is missing and the user is not root: run this test as root "+
				"(`make image` then installs Debian's buildah), or install buildah and run it as root")
		}
		testenv.Unavailable(t, "building and running the image with buildah (chroot isolation) needs root: run this test as root")
	}
	if _, err := exec.LookPath("make"); err != nil {
		testenv.Unavailable(t, "make is not installed (apt-get install make)")
	}
	root := repoRoot(t)
	tmp := t.TempDir()
	b := buildah{driver: os.Getenv("STORAGE_DRIVER")}
	if b.driver == "" {
		b.driver = makefileVar(t, "STORAGE_DRIVER")
	}
	id := randomHex(t, 4)
	name := "localhost/todo-api-test-" + id

	// `make image` as a user runs it, with only the name and staging
	// directory moved aside so that it touches nothing of the user's.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	start := time.Now()
	mk := exec.CommandContext(ctx, "make", "--no-print-directory", "-C", root, "image",
		"IMAGE="+name, "IMAGE_ROOT="+filepath.Join(tmp, "root"), "IMAGE_BUILDER=")
	out, err := mk.CombinedOutput()
	if err != nil {
		t.Fatalf("make image: %v\n%s", err, out)
	}
	t.Logf("make image took %v", time.Since(start).Round(time.Second))
	if _, err := exec.LookPath("buildah"); err != nil {
		t.Fatalf("make image ran, but buildah is not installed (it installs it as root): %v\n%s", err, out)
	}
	imageID := strings.TrimSpace(b.run(t, "inspect", "--type", "image", "--format", "{{.FromImageID}}", name+":latest"))
	t.Cleanup(func() { _ = b.cmd("rmi", "--force", imageID).Run() }) // every tag

	layout := filepath.Join(tmp, "oci")
	b.run(t, "push", "--quiet", name+":latest", "oci:"+layout)
	img, err := readOCILayout(layout)
	if err != nil {
		t.Fatal(err)
	}
	version := img.Config.Config.Labels["org.opencontainers.image.version"]
	if version != "" {
		tag := name + ":" + strings.NewReplacer("/", "-", "+", "-").Replace(version)
		if err := b.cmd("inspect", "--type", "image", tag).Run(); err != nil {
			t.Errorf("make image did not tag %s (the version label): %v", tag, err)
		}
	}

	t.Run("config", func(t *testing.T) { checkConfig(t, root, img) })
	t.Run("files", func(t *testing.T) { checkFiles(t, img) })
	t.Run("run", func(t *testing.T) { runImage(t, b, name+":latest", id, img.Config) })
}

func checkConfig(t *testing.T, root string, img *ociImage) {
	c := img.Config.Config
	if img.Config.OS != "linux" || img.Config.Architecture != runtime.GOARCH {
		t.Errorf("platform = %s/%s, want linux/%s", img.Config.OS, img.Config.Architecture, runtime.GOARCH)
	}
	if want := fmt.Sprintf("%d:%d", nonrootID, nonrootID); c.User != want {
		t.Errorf("User = %q, want %q (numeric, so that runAsNonRoot can check it)", c.User, want)
	}
	wantPort := fmt.Sprintf("%d/tcp", bootstrap.DefaultPort)
	if _, ok := c.ExposedPorts[wantPort]; !ok || len(c.ExposedPorts) != 1 {
		t.Errorf("ExposedPorts = %v, want only %s (the binary's default PORT)", c.ExposedPorts, wantPort)
	}
	if !slices.Equal(c.Entrypoint, []string{"/todo-api"}) || !slices.Equal(c.Cmd, []string{"serve"}) {
		t.Errorf("Entrypoint, Cmd = %q, %q, want [/todo-api], [serve]", c.Entrypoint, c.Cmd)
	}
	if c.WorkingDir != "/data" {
		t.Errorf("WorkingDir = %q, want /data (where sqlite:todo.db lands)", c.WorkingDir)
	}
	for _, e := range c.Env {
		if k, _, _ := strings.Cut(e, "="); k != "PATH" {
			t.Errorf("the image sets %s: configuration comes from the environment at run time only", k)
		}
	}
	labels := c.Labels
	if u, err := url.Parse(labels["org.opencontainers.image.source"]); err != nil || u.Scheme != "https" || u.Host == "" {
		t.Errorf("label org.opencontainers.image.source = %q, want an https URL", labels["org.opencontainers.image.source"])
	}
	if v := labels["org.opencontainers.image.version"]; v == "" || v == "dev" {
		t.Errorf("label org.opencontainers.image.version = %q, want the git version", v)
	}
	if out, err := exec.Command("git", "-C", root, "rev-parse", "HEAD").Output(); err == nil {
		if got, want := labels["org.opencontainers.image.revision"], strings.TrimSpace(string(out)); got != want {
			t.Errorf("label org.opencontainers.image.revision = %q, want %q (git rev-parse HEAD)", got, want)
		}
	}
}

// checkFiles wants the image to hold exactly the binary, the CA bundle,
// passwd and group, and the data directory of the unprivileged user.
func checkFiles(t *testing.T, img *ociImage) {
	type spec struct {
		typ      byte
		mode     int64
		uid, gid int
	}
	dir := spec{tar.TypeDir, 0o755, 0, 0}
	want := map[string]spec{
		"todo-api":                          {tar.TypeReg, 0o755, 0, 0},
		"etc":                               dir,
		"etc/passwd":                        {tar.TypeReg, 0o644, 0, 0},
		"etc/group":                         {tar.TypeReg, 0o644, 0, 0},
		"etc/ssl":                           dir,
		"etc/ssl/certs":                     dir,
		"etc/ssl/certs/ca-certificates.crt": {tar.TypeReg, 0o644, 0, 0},
		"data":                              {tar.TypeDir, 0o755, nonrootID, nonrootID},
	}
	for p, f := range img.Files {
		w, ok := want[p]
		switch {
		case !ok:
			t.Errorf("the image holds /%s, which is not one of its listed files", p)
		case f.Type != w.typ || f.Mode != w.mode || f.UID != w.uid || f.GID != w.gid:
			t.Errorf("/%s: type %q mode %#o owner %d:%d, want type %q mode %#o owner %d:%d",
				p, f.Type, f.Mode, f.UID, f.GID, w.typ, w.mode, w.uid, w.gid)
		}
	}
	for p := range want {
		if img.Files[p] == nil {
			t.Errorf("the image lacks /%s", p)
		}
	}

	t.Logf("image size: %d bytes uncompressed (%.1f MiB, %.1f MB), %d bytes compressed",
		img.Bytes, float64(img.Bytes)/(1<<20), float64(img.Bytes)/1e6, img.CompressedBytes)
	if img.Bytes >= maxImageBytes {
		t.Errorf("image is %d bytes uncompressed, want under %d (32 MiB)", img.Bytes, maxImageBytes)
	}

	hasEntry := func(file string, match func(fields []string) bool) bool {
		f := img.Files[file]
		if f == nil {
			return false
		}
		for line := range strings.Lines(string(f.Data)) {
			if match(strings.Split(strings.TrimSpace(line), ":")) {
				return true
			}
		}
		return false
	}
	id := strconv.Itoa(nonrootID)
	if !hasEntry("etc/passwd", func(f []string) bool { return len(f) == 7 && f[2] == id && f[3] == id }) {
		t.Errorf("/etc/passwd has no user %s with group %s", id, id)
	}
	if !hasEntry("etc/group", func(f []string) bool { return len(f) == 4 && f[2] == id }) {
		t.Errorf("/etc/group has no group %s", id)
	}
	if f := img.Files["etc/ssl/certs/ca-certificates.crt"]; f != nil && !x509.NewCertPool().AppendCertsFromPEM(f.Data) {
		t.Error("/etc/ssl/certs/ca-certificates.crt holds no PEM certificate")
	}
	if f := img.Files["todo-api"]; f != nil {
		checkStatic(t, f.Data)
	}
}

// checkStatic wants an executable that runs on an empty image: no dynamic
// loader, no shared libraries.
func checkStatic(t *testing.T, b []byte) {
	f, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		t.Errorf("/todo-api is not an ELF executable: %v", err)
		return
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("/todo-api is dynamically linked (%v): build it with CGO_ENABLED=0", p.Type)
		}
	}
	machine := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}[runtime.GOARCH]
	if machine != 0 && f.Machine != machine {
		t.Errorf("/todo-api is for %v, want %v", f.Machine, machine)
	}
}

// runImage runs the image's entrypoint and command in a buildah container
// (host network, so on a free port), talks to it, checks who runs it, stops
// it with SIGTERM, then runs `migrate up` with the default SQLite URL.
func runImage(t *testing.T, b buildah, image, id string, cfg imageConfig) {
	ctr := strings.TrimSpace(b.run(t, "from", "--pull=never", "--name", "todo-api-test-"+id, image))
	t.Cleanup(func() { _ = b.cmd("rm", ctr).Run() })

	port := testenv.FreePort(t)
	marker := "TODO_IMAGE_TEST=" + id // finds the server process among the host's
	args := []string{"run", "--isolation", "chroot",
		"--env", "PORT=" + strconv.Itoa(port),
		"--env", "DATABASE_URL=memory:",
		"--env", "BETTER_AUTH_SECRET=" + testSecret,
		"--env", marker,
		ctr, "--"}
	args = append(append(args, cfg.Config.Entrypoint...), cfg.Config.Cmd...)
	cmd := b.cmd(args...)
	var stdout, stderr testenv.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// Wait returns even if an orphaned child still holds stdout open.
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// done closes when buildah exits; waitErr is then its exit status.
	var waitErr error
	done := make(chan struct{})
	go func() { waitErr = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		select {
		case <-done:
			return
		default:
		}
		// buildah's chroot child outlives a killed buildah: kill both.
		if pid, err := findProcess(marker, cfg.Config.Entrypoint[0]); err == nil {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		_ = cmd.Process.Kill()
		<-done
	})

	base := "http://127.0.0.1:" + strconv.Itoa(port)
	client := &http.Client{Timeout: 10 * time.Second}
	waitHealthy(t, client, base+livenessPath, done, &stdout, &stderr)

	pid, err := findProcess(marker, cfg.Config.Entrypoint[0])
	if err != nil {
		t.Fatal(err)
	}
	checkProcess(t, pid)

	// The paths the Kubernetes probes use answer 200.
	var d deployment
	loadManifests(t).find(t, "Deployment", "todo-api", &d)
	app := d.Spec.Template.Spec.Containers[0]
	for _, p := range []*probe{app.LivenessProbe, app.ReadinessProbe} {
		if p == nil || p.HTTPGet == nil {
			continue // TestManifestsDeployment says why
		}
		if status, body := call(t, client, "GET", base+p.HTTPGet.Path, "", ""); status != http.StatusOK {
			t.Errorf("GET %s = %d %s, want 200", p.HTTPGet.Path, status, body)
		}
	}

	tok, err := jwks.SignHS256([]byte(testSecret), auth.Identity{UserID: "alice", Email: "alice@example.com", Name: "Alice"},
		time.Hour, time.Now(), "", "")
	if err != nil {
		t.Fatal(err)
	}
	if status, body := call(t, client, "GET", base+"/api/alice/tasks", "", ""); status != http.StatusUnauthorized {
		t.Errorf("GET /api/alice/tasks without a token = %d %s, want 401", status, body)
	}
	status, body := call(t, client, "POST", base+"/api/alice/tasks", tok, `{"title": "shipped in an image"}`)
	if status != http.StatusCreated {
		t.Fatalf("POST /api/alice/tasks = %d %s, want 201", status, body)
	}
	var created struct {
		ID    int64  `json:"id"`
		Title string `json:"title"`
	}
	if err := json.Unmarshal([]byte(body), &created); err != nil || created.Title != "shipped in an image" {
		t.Errorf("POST /api/alice/tasks body %s (%v), want the task titled %q", body, err, "shipped in an image")
	}
	status, body = call(t, client, "GET", base+"/api/alice/tasks", tok, "")
	var list []struct {
		ID    int64  `json:"id"`
		Title string `json:"title"`
	}
	if err := json.Unmarshal([]byte(body), &list); status != http.StatusOK || err != nil ||
		len(list) != 1 || list[0].ID != created.ID || list[0].Title != created.Title {
		t.Errorf("GET /api/alice/tasks = %d %s, want 200 and the one created task", status, body)
	}

	// SIGTERM, as the kubelet sends it: the server drains and exits 0.
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
		if waitErr != nil {
			t.Errorf("after SIGTERM the container exited with %v, want 0\nstderr:\n%s", waitErr, stderr.String())
		}
	case <-time.After(time.Minute):
		t.Fatalf("the server did not stop within a minute of SIGTERM\nstdout:\n%s", stdout.String())
	}
	checkJSONLogs(t, stdout.String())

	// With no DATABASE_URL the binary uses sqlite:todo.db in the working
	// directory: /data must be writable by the image's user.
	mig := append(append([]string{"run", "--isolation", "chroot", "--env", "BETTER_AUTH_SECRET=" + testSecret, ctr, "--"},
		cfg.Config.Entrypoint...), "migrate", "up")
	if out, err := b.cmd(mig...).CombinedOutput(); err != nil {
		t.Errorf("migrate up with the default DATABASE_URL: %v\n%s", err, out)
	}
	mnt := strings.TrimSpace(b.run(t, "mount", ctr))
	defer func() { _ = b.cmd("umount", ctr).Run() }()
	if fi, err := os.Stat(filepath.Join(mnt, "data", "todo.db")); err != nil {
		t.Errorf("migrate up with the default DATABASE_URL left no /data/todo.db: %v", err)
	} else if st, ok := fi.Sys().(*syscall.Stat_t); ok && (st.Uid != nonrootID || st.Gid != nonrootID) {
		t.Errorf("/data/todo.db is owned by %d:%d, want %d:%d", st.Uid, st.Gid, nonrootID, nonrootID)
	}
}

// waitHealthy polls url until it answers 200, failing when the container
// exits first or a minute passes.
func waitHealthy(t *testing.T, client *http.Client, url string, done <-chan struct{}, stdout, stderr *testenv.Buffer) {
	t.Helper()
	deadline := time.After(time.Minute)
	for {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-done:
			t.Fatalf("the container exited before %s answered\nstdout:\n%s\nstderr:\n%s", url, stdout.String(), stderr.String())
		case <-deadline:
			t.Fatalf("%s did not answer 200 within a minute\nstdout:\n%s\nstderr:\n%s", url, stdout.String(), stderr.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// checkProcess wants the server to run as the image's user, with no
// capabilities, in /data.
func checkProcess(t *testing.T, pid int) {
	t.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	id := strconv.Itoa(nonrootID)
	fields := make(map[string][]string)
	for line := range strings.Lines(string(status)) {
		if k, v, ok := strings.Cut(line, ":"); ok {
			fields[k] = strings.Fields(v)
		}
	}
	for _, k := range []string{"Uid", "Gid"} {
		if got := fields[k]; len(got) != 4 || slices.ContainsFunc(got, func(s string) bool { return s != id }) {
			t.Errorf("server process %s (real, effective, saved, fs) = %q, want all %s", k, got, id)
		}
	}
	if got := fields["CapEff"]; len(got) != 1 || strings.Trim(got[0], "0") != "" {
		t.Errorf("server process CapEff = %q, want none", got)
	}
	if cwd, err := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid)); err != nil || !strings.HasSuffix(cwd, "/data") {
		t.Errorf("server process working directory = %q (%v), want the image's /data", cwd, err)
	}
}

// checkJSONLogs wants every line on stdout to be one JSON log entry.
func checkJSONLogs(t *testing.T, out string) {
	t.Helper()
	n := 0
	for line := range strings.Lines(out) {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		var entry map[string]any
		if err := json.Unmarshal([]byte(line), &entry); err != nil || entry["level"] == nil || entry["msg"] == nil {
			t.Errorf("stdout line is not a JSON log entry with level and msg: %s", line)
		}
		n++
	}
	if n == 0 {
		t.Error("the server logged nothing on stdout")
	}
}

// findProcess finds the process whose environment holds marker and whose
// argv[0] is exe.
func findProcess(marker, exe string) (int, error) {
	dirs, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		env, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
		if err != nil || !slices.Contains(strings.Split(string(env), "\x00"), marker) {
			continue
		}
		cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err == nil && strings.Split(string(cmdline), "\x00")[0] == exe {
			return pid, nil
		}
	}
	return 0, fmt.Errorf("no process %s with %s in its environment", exe, marker)
}

func call(t *testing.T, client *http.Client, method, url, token, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		t.Fatalf("%s %s: read body: %v", method, url, err)
	}
	return resp.StatusCode, buf.String()
}

// buildah runs buildah on one storage driver: every command on a storage
// must use the driver that created it.
type buildah struct{ driver string }

func (b buildah) cmd(args ...string) *exec.Cmd {
	return exec.Command("buildah", append([]string{"--storage-driver", b.driver}, args...)...)
}

func (b buildah) run(t *testing.T, args ...string) string {
	t.Helper()
	cmd := b.cmd(args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("buildah %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}
