package image

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v4"

	"github.com/todo-backend/todo/bootstrap"
)

// The probe paths the binary serves (README.md, adapters/httpapi). TestImage
// calls the paths the manifests name on the running image, so a probe that
// points anywhere else fails there too.
const (
	livenessPath  = "/healthz"
	readinessPath = "/readyz"
)

// The unprivileged user the image runs as (Containerfile USER).
const nonrootID = 65532

// The parts of the Kubernetes objects in deploy/ that the tests check.

type objectMeta struct {
	Name   string            `yaml:"name"`
	Labels map[string]string `yaml:"labels"`
}

type object struct {
	APIVersion string     `yaml:"apiVersion"`
	Kind       string     `yaml:"kind"`
	Metadata   objectMeta `yaml:"metadata"`
	file       string
	node       *yaml.Node
}

type kustomization struct {
	Resources []string `yaml:"resources"`
	Images    []struct {
		Name    string `yaml:"name"`
		NewName string `yaml:"newName"`
		NewTag  string `yaml:"newTag"`
	} `yaml:"images"`
}

type deployment struct {
	Spec struct {
		Replicas *int `yaml:"replicas"`
		Selector struct {
			MatchLabels map[string]string `yaml:"matchLabels"`
		} `yaml:"selector"`
		Template struct {
			Metadata objectMeta `yaml:"metadata"`
			Spec     podSpec    `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

type podSpec struct {
	TerminationGracePeriodSeconds *int64          `yaml:"terminationGracePeriodSeconds"`
	SecurityContext               securityContext `yaml:"securityContext"`
	InitContainers                []container     `yaml:"initContainers"`
	Containers                    []container     `yaml:"containers"`
}

type securityContext struct {
	RunAsNonRoot             *bool  `yaml:"runAsNonRoot"`
	RunAsUser                *int64 `yaml:"runAsUser"`
	RunAsGroup               *int64 `yaml:"runAsGroup"`
	ReadOnlyRootFilesystem   *bool  `yaml:"readOnlyRootFilesystem"`
	AllowPrivilegeEscalation *bool  `yaml:"allowPrivilegeEscalation"`
	Capabilities             struct {
		Drop []string `yaml:"drop"`
	} `yaml:"capabilities"`
}

type container struct {
	Name            string   `yaml:"name"`
	Image           string   `yaml:"image"`
	ImagePullPolicy string   `yaml:"imagePullPolicy"`
	Command         []string `yaml:"command"`
	Args            []string `yaml:"args"`
	Ports           []struct {
		Name          string `yaml:"name"`
		ContainerPort int    `yaml:"containerPort"`
	} `yaml:"ports"`
	EnvFrom []struct {
		ConfigMapRef *struct {
			Name string `yaml:"name"`
		} `yaml:"configMapRef"`
		SecretRef *struct {
			Name string `yaml:"name"`
		} `yaml:"secretRef"`
	} `yaml:"envFrom"`
	Env []struct {
		Name      string `yaml:"name"`
		Value     string `yaml:"value"`
		ValueFrom *struct {
			SecretKeyRef *keyRef `yaml:"secretKeyRef"`
			ConfigMapRef *keyRef `yaml:"configMapKeyRef"`
		} `yaml:"valueFrom"`
	} `yaml:"env"`
	StartupProbe   *probe `yaml:"startupProbe"`
	LivenessProbe  *probe `yaml:"livenessProbe"`
	ReadinessProbe *probe `yaml:"readinessProbe"`
	Lifecycle      struct {
		PreStop *struct {
			Sleep *struct {
				Seconds int64 `yaml:"seconds"`
			} `yaml:"sleep"`
		} `yaml:"preStop"`
	} `yaml:"lifecycle"`
	Resources struct {
		Requests map[string]string `yaml:"requests"`
		Limits   map[string]string `yaml:"limits"`
	} `yaml:"resources"`
	SecurityContext securityContext `yaml:"securityContext"`
}

type keyRef struct {
	Name     string `yaml:"name"`
	Key      string `yaml:"key"`
	Optional bool   `yaml:"optional"`
}

type probe struct {
	HTTPGet *struct {
		Path string `yaml:"path"`
		Port any    `yaml:"port"` // a number or a port name
	} `yaml:"httpGet"`
}

type service struct {
	Spec struct {
		Selector map[string]string `yaml:"selector"`
		Ports    []struct {
			Name       string `yaml:"name"`
			Port       int    `yaml:"port"`
			TargetPort any    `yaml:"targetPort"`
		} `yaml:"ports"`
	} `yaml:"spec"`
}

type dataObject struct { // ConfigMap and Secret
	Data       map[string]string `yaml:"data"`
	StringData map[string]string `yaml:"stringData"`
}

// manifests is every object in deploy/*.yaml.
type manifests struct {
	dir     string
	objects []object
}

func loadManifests(t *testing.T) manifests {
	t.Helper()
	dir := filepath.Join(repoRoot(t), "deploy")
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no *.yaml in %s", dir)
	}
	m := manifests{dir: dir}
	for _, f := range files {
		objs, err := parseYAMLFile(f)
		if err != nil {
			t.Fatal(err)
		}
		m.objects = append(m.objects, objs...)
	}
	return m
}

// parseYAMLFile reads every document of a YAML file. Each must be an object
// with apiVersion, kind and metadata.name (a Kustomization needs no name).
func parseYAMLFile(path string) ([]object, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	name := filepath.Base(path)
	dec := yaml.NewDecoder(f)
	var out []object
	for i := 1; ; i++ {
		var n yaml.Node
		if err := dec.Decode(&n); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", name, i, err)
		}
		var o object
		if err := n.Decode(&o); err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", name, i, err)
		}
		if o.APIVersion == "" || o.Kind == "" || (o.Metadata.Name == "" && o.Kind != "Kustomization") {
			return nil, fmt.Errorf("%s: document %d lacks apiVersion, kind or metadata.name", name, i)
		}
		o.file, o.node = name, &n
		out = append(out, o)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no YAML document", name)
	}
	return out, nil
}

// find decodes the one object of kind (and name, when not empty) into v.
func (m manifests) find(t *testing.T, kind, name string, v any) object {
	t.Helper()
	var found []object
	for _, o := range m.objects {
		if o.Kind == kind && (name == "" || o.Metadata.Name == name) {
			found = append(found, o)
		}
	}
	if len(found) != 1 {
		t.Fatalf("deploy/ has %d %s objects named %q, want 1", len(found), kind, name)
	}
	if err := found[0].node.Decode(v); err != nil {
		t.Fatalf("%s: %s: %v", found[0].file, kind, err)
	}
	return found[0]
}

func TestManifestsParse(t *testing.T) {
	m := loadManifests(t)
	var k kustomization
	m.find(t, "Kustomization", "", &k)

	listed := make(map[string]bool)
	for _, r := range k.Resources {
		if _, err := os.Stat(filepath.Join(m.dir, r)); err != nil {
			t.Errorf("kustomization.yaml lists %s: %v", r, err)
		}
		listed[r] = true
	}
	for _, o := range m.objects {
		switch {
		case o.Kind == "Kustomization":
		case o.Kind == "Secret":
			// Placeholders must never reach a cluster by `kubectl apply -k`.
			if listed[o.file] {
				t.Errorf("kustomization.yaml lists %s, which holds a Secret with placeholders", o.file)
			}
			if !strings.Contains(o.file, "example") {
				t.Errorf("%s holds a Secret: keep secrets out of deploy/ (only *example* files with placeholders)", o.file)
			}
		case !listed[o.file]:
			t.Errorf("kustomization.yaml does not list %s (%s %s)", o.file, o.Kind, o.Metadata.Name)
		}
	}
}

// The image `make image` tags is what the manifests run.
func TestManifestsImage(t *testing.T) {
	m := loadManifests(t)
	want := makefileVar(t, "IMAGE")

	var k kustomization
	m.find(t, "Kustomization", "", &k)
	if len(k.Images) != 1 || k.Images[0].Name != want {
		t.Errorf("kustomization.yaml images = %+v, want one entry named %q (the Makefile's IMAGE)", k.Images, want)
	}
	var d deployment
	m.find(t, "Deployment", "todo-api", &d)
	for _, c := range append(d.Spec.Template.Spec.InitContainers, d.Spec.Template.Spec.Containers...) {
		if got := imageName(c.Image); got != want {
			t.Errorf("container %s: image %q is not the Makefile's IMAGE %q", c.Name, c.Image, want)
		}
		if len(c.Command) != 0 {
			t.Errorf("container %s: command %q replaces the image's entrypoint; use args", c.Name, c.Command)
		}
	}
}

// imageName strips the tag or digest from an image reference.
func imageName(ref string) string {
	ref, _, _ = strings.Cut(ref, "@")
	if i := strings.LastIndexByte(ref, ':'); i > strings.LastIndexByte(ref, '/') {
		ref = ref[:i]
	}
	return ref
}

func TestManifestsDeployment(t *testing.T) {
	m := loadManifests(t)
	var d deployment
	m.find(t, "Deployment", "todo-api", &d)
	pod := d.Spec.Template.Spec
	if len(pod.Containers) != 1 {
		t.Fatalf("Deployment has %d containers, want 1", len(pod.Containers))
	}
	app := pod.Containers[0]
	if len(app.Args) > 0 && !slices.Equal(app.Args, []string{"serve"}) {
		t.Errorf("container %s args = %q, want [serve] or none", app.Name, app.Args)
	}

	// The environment the binary sees, from the ConfigMap and the example
	// Secret's placeholders: it must start with it, and its port and
	// drain time are what the probes and the grace period must fit.
	env := containerEnv(t, m, app)
	cfg, err := bootstrap.LoadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("the binary refuses the Deployment's environment:\n%v", err)
	}
	if cfg.StorageKind() != "postgres" {
		t.Errorf("DATABASE_URL selects %q storage, want postgres: replicas must share one database", cfg.StorageKind())
	}

	ports := make(map[string]int)
	for _, p := range app.Ports {
		ports[p.Name] = p.ContainerPort
	}
	if ports["http"] != cfg.Port {
		t.Errorf("container port http = %d, want %d (the binary's PORT)", ports["http"], cfg.Port)
	}
	for _, tc := range []struct {
		name string
		p    *probe
		path string
	}{
		{"startupProbe", app.StartupProbe, livenessPath},
		{"livenessProbe", app.LivenessProbe, livenessPath},
		{"readinessProbe", app.ReadinessProbe, readinessPath},
	} {
		if tc.p == nil || tc.p.HTTPGet == nil {
			t.Errorf("%s: want an httpGet probe on %s", tc.name, tc.path)
			continue
		}
		if tc.p.HTTPGet.Path != tc.path {
			t.Errorf("%s path = %q, want %q", tc.name, tc.p.HTTPGet.Path, tc.path)
		}
		if got, err := resolvePort(tc.p.HTTPGet.Port, ports); err != nil || got != cfg.Port {
			t.Errorf("%s port %v = %d (%v), want %d", tc.name, tc.p.HTTPGet.Port, got, err, cfg.Port)
		}
	}

	// SIGTERM comes after preStop; the drain (SHUTDOWN_TIMEOUT) must end
	// before the grace period does, or the kubelet kills requests in flight.
	var preStop time.Duration
	if ps := app.Lifecycle.PreStop; ps != nil && ps.Sleep != nil {
		preStop = time.Duration(ps.Sleep.Seconds) * time.Second
	}
	if pod.TerminationGracePeriodSeconds == nil {
		t.Errorf("terminationGracePeriodSeconds unset (default 30s), want it explicit and above preStop %v + SHUTDOWN_TIMEOUT %v", preStop, cfg.ShutdownTimeout)
	} else if grace := time.Duration(*pod.TerminationGracePeriodSeconds) * time.Second; grace <= preStop+cfg.ShutdownTimeout {
		t.Errorf("terminationGracePeriodSeconds = %v, want above preStop %v + SHUTDOWN_TIMEOUT %v", grace, preStop, cfg.ShutdownTimeout)
	}

	if !equalLabels(d.Spec.Selector.MatchLabels, d.Spec.Template.Metadata.Labels) {
		t.Errorf("selector %v does not match the pod labels %v", d.Spec.Selector.MatchLabels, d.Spec.Template.Metadata.Labels)
	}

	for _, c := range append(pod.InitContainers, pod.Containers...) {
		checkSecurity(t, c.Name, pod.SecurityContext, c.SecurityContext)
		for _, r := range []string{"cpu", "memory"} {
			if c.Resources.Requests[r] == "" {
				t.Errorf("container %s: no %s request", c.Name, r)
			}
		}
		if c.Resources.Limits["memory"] == "" {
			t.Errorf("container %s: no memory limit", c.Name)
		}
	}
}

// The migration runs once per pod start, before the server, on the direct
// (not pooled) connection; the server uses the pooled one.
func TestManifestsMigrate(t *testing.T) {
	m := loadManifests(t)
	var d deployment
	m.find(t, "Deployment", "todo-api", &d)
	pod := d.Spec.Template.Spec
	var migrate *container
	for i, c := range pod.InitContainers {
		if slices.Equal(c.Args, []string{"migrate", "up"}) {
			migrate = &pod.InitContainers[i]
		}
	}
	if migrate == nil {
		t.Fatalf("no init container runs `migrate up` (args %q)", []string{"migrate", "up"})
	}
	if migrate.Image != pod.Containers[0].Image {
		t.Errorf("migrate image %q differs from the server's %q", migrate.Image, pod.Containers[0].Image)
	}
	for _, tc := range []struct {
		c      container
		pooled bool
	}{{*migrate, false}, {pod.Containers[0], true}} {
		u, err := url.Parse(containerEnv(t, m, tc.c)["DATABASE_URL"])
		if err != nil {
			t.Fatalf("container %s: DATABASE_URL: %v", tc.c.Name, err)
		}
		host, _, _ := strings.Cut(u.Hostname(), ".")
		if got := strings.HasSuffix(host, "-pooler"); got != tc.pooled {
			t.Errorf("container %s: DATABASE_URL host %q pooled = %v, want %v (Neon: pooled for the app, direct for migrations)", tc.c.Name, u.Hostname(), got, tc.pooled)
		}
		q := u.Query()
		if q.Get("sslmode") != "require" || q.Get("channel_binding") != "require" {
			t.Errorf("container %s: DATABASE_URL query %q, want sslmode=require&channel_binding=require as Neon prints it", tc.c.Name, u.RawQuery)
		}
	}
}

func TestManifestsService(t *testing.T) {
	m := loadManifests(t)
	var d deployment
	m.find(t, "Deployment", "todo-api", &d)
	var s service
	m.find(t, "Service", "todo-api", &s)
	pod := d.Spec.Template.Spec
	if !equalLabels(s.Spec.Selector, d.Spec.Template.Metadata.Labels) {
		t.Errorf("Service selector %v does not match the pod labels %v", s.Spec.Selector, d.Spec.Template.Metadata.Labels)
	}
	ports := make(map[string]int)
	for _, p := range pod.Containers[0].Ports {
		ports[p.Name] = p.ContainerPort
	}
	if len(s.Spec.Ports) == 0 {
		t.Fatal("Service has no ports")
	}
	for _, p := range s.Spec.Ports {
		if got, err := resolvePort(p.TargetPort, ports); err != nil || got != bootstrap.DefaultPort {
			t.Errorf("Service port %s targets %v = %d (%v), want the container's %d", p.Name, p.TargetPort, got, err, bootstrap.DefaultPort)
		}
	}
}

// containerEnv is what c's process sees: envFrom ConfigMaps, then env, with
// Secret values taken from the example's placeholders.
func containerEnv(t *testing.T, m manifests, c container) map[string]string {
	t.Helper()
	data := func(kind, name string) map[string]string {
		var v dataObject
		m.find(t, kind, name, &v)
		out := make(map[string]string)
		for k, s := range v.Data {
			out[k] = s
		}
		for k, s := range v.StringData {
			out[k] = s
		}
		return out
	}
	env := make(map[string]string)
	for _, ef := range c.EnvFrom {
		var src map[string]string
		switch {
		case ef.ConfigMapRef != nil:
			src = data("ConfigMap", ef.ConfigMapRef.Name)
		case ef.SecretRef != nil:
			src = data("Secret", ef.SecretRef.Name)
		}
		for k, v := range src {
			env[k] = v
		}
	}
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			env[e.Name] = e.Value
			continue
		}
		var kind string
		var ref *keyRef
		switch {
		case e.ValueFrom.SecretKeyRef != nil:
			kind, ref = "Secret", e.ValueFrom.SecretKeyRef
		case e.ValueFrom.ConfigMapRef != nil:
			kind, ref = "ConfigMap", e.ValueFrom.ConfigMapRef
		default:
			continue // fieldRef, resourceFieldRef: not configuration the binary checks
		}
		v, ok := data(kind, ref.Name)[ref.Key]
		switch {
		case ok:
			env[e.Name] = v
		case !ref.Optional:
			t.Errorf("container %s: env %s needs key %s of %s %s, which deploy/ does not show", c.Name, e.Name, ref.Key, kind, ref.Name)
		}
	}
	return env
}

func resolvePort(p any, named map[string]int) (int, error) {
	switch v := p.(type) {
	case int:
		return v, nil
	case string:
		if n, ok := named[v]; ok {
			return n, nil
		}
		return 0, fmt.Errorf("no container port named %q", v)
	}
	return 0, fmt.Errorf("port %v (%T) is neither a number nor a name", p, p)
}

func equalLabels(selector, labels map[string]string) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// checkSecurity wants the container to run as the image's unprivileged user
// on a read-only root with no privileges, from the pod's or its own
// securityContext.
func checkSecurity(t *testing.T, name string, pod, c securityContext) {
	t.Helper()
	pickBool := func(a, b *bool) bool {
		if b != nil {
			return *b
		}
		return a != nil && *a
	}
	pickID := func(a, b *int64) int64 {
		if b != nil {
			return *b
		}
		if a != nil {
			return *a
		}
		return -1
	}
	if !pickBool(pod.RunAsNonRoot, c.RunAsNonRoot) {
		t.Errorf("container %s: runAsNonRoot not true", name)
	}
	if got := pickID(pod.RunAsUser, c.RunAsUser); got != nonrootID {
		t.Errorf("container %s: runAsUser = %d, want %d (the image's user)", name, got, nonrootID)
	}
	if !pickBool(nil, c.ReadOnlyRootFilesystem) {
		t.Errorf("container %s: readOnlyRootFilesystem not true", name)
	}
	if c.AllowPrivilegeEscalation == nil || *c.AllowPrivilegeEscalation {
		t.Errorf("container %s: allowPrivilegeEscalation not false", name)
	}
	if !slices.Contains(c.Capabilities.Drop, "ALL") {
		t.Errorf("container %s: capabilities.drop = %q, want ALL", name, c.Capabilities.Drop)
	}
}
