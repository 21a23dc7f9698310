package image

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// ociImage is an image read from an OCI layout directory (what
// `buildah push IMAGE oci:DIR` writes): its configuration and the files its
// layers hold, later layers over earlier ones.
type ociImage struct {
	Config          imageConfig
	Files           map[string]*ociFile // by path, without a leading / or ./
	Bytes           int64               // uncompressed layers (tar streams)
	CompressedBytes int64               // layers as stored or pushed
}

type ociFile struct {
	Type     byte  // tar.TypeReg, tar.TypeDir, ...
	Mode     int64 // permission and special bits
	UID, GID int
	Size     int64
	Data     []byte // regular files only
}

type imageConfig struct {
	Architecture string `json:"architecture"`
	OS           string `json:"os"`
	Config       struct {
		User         string              `json:"User"`
		ExposedPorts map[string]struct{} `json:"ExposedPorts"`
		Env          []string            `json:"Env"`
		Entrypoint   []string            `json:"Entrypoint"`
		Cmd          []string            `json:"Cmd"`
		WorkingDir   string              `json:"WorkingDir"`
		Labels       map[string]string   `json:"Labels"`
		StopSignal   string              `json:"StopSignal"`
	} `json:"config"`
}

type ociDescriptor struct {
	MediaType string `json:"mediaType"`
	Digest    string `json:"digest"`
	Size      int64  `json:"size"`
}

// readOCILayout reads the one image of an OCI layout directory.
func readOCILayout(dir string) (*ociImage, error) {
	var index struct {
		Manifests []ociDescriptor `json:"manifests"`
	}
	if err := readJSON(filepath.Join(dir, "index.json"), &index); err != nil {
		return nil, err
	}
	if len(index.Manifests) != 1 {
		return nil, fmt.Errorf("oci layout %s: %d manifests, want 1", dir, len(index.Manifests))
	}
	var manifest struct {
		Config ociDescriptor   `json:"config"`
		Layers []ociDescriptor `json:"layers"`
	}
	if err := readJSON(blobPath(dir, index.Manifests[0]), &manifest); err != nil {
		return nil, err
	}
	img := &ociImage{Files: make(map[string]*ociFile)}
	if err := readJSON(blobPath(dir, manifest.Config), &img.Config); err != nil {
		return nil, err
	}
	for _, l := range manifest.Layers {
		img.CompressedBytes += l.Size
		n, err := readLayer(blobPath(dir, l), l.MediaType, img.Files)
		if err != nil {
			return nil, fmt.Errorf("layer %s: %w", l.Digest, err)
		}
		img.Bytes += n
	}
	return img, nil
}

func blobPath(dir string, d ociDescriptor) string {
	alg, hex, _ := strings.Cut(d.Digest, ":")
	return filepath.Join(dir, "blobs", alg, hex)
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// readLayer adds a layer's entries to files and returns the length of its
// uncompressed tar stream.
func readLayer(path, mediaType string, files map[string]*ociFile) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var r io.Reader = f
	switch {
	case strings.HasSuffix(mediaType, "+gzip"), strings.HasSuffix(mediaType, ".gzip"):
		zr, err := gzip.NewReader(f)
		if err != nil {
			return 0, err
		}
		defer zr.Close()
		r = zr
	case strings.HasSuffix(mediaType, ".tar"):
	default:
		return 0, fmt.Errorf("layer media type %q: want a tar or tar+gzip layer", mediaType)
	}
	cr := &countingReader{r: r}
	tr := tar.NewReader(cr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, err
		}
		name := strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(h.Name, "./"), "/"), "/")
		if name == "" || name == "." {
			continue
		}
		if strings.Contains(filepath.Base(name), ".wh.") {
			return 0, fmt.Errorf("whiteout %s: a FROM scratch image has nothing to delete", h.Name)
		}
		of := &ociFile{Type: h.Typeflag, Mode: h.Mode & 0o7777, UID: h.Uid, GID: h.Gid, Size: h.Size}
		if h.Typeflag == tar.TypeReg {
			var buf bytes.Buffer
			if _, err := io.Copy(&buf, tr); err != nil {
				return 0, err
			}
			of.Data = buf.Bytes()
		}
		files[name] = of
	}
	// The end-of-archive blocks and padding count too.
	if _, err := io.Copy(io.Discard, cr); err != nil {
		return 0, err
	}
	return cr.n, nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
