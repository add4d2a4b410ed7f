package main

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

const (
	mtManifest = "application/vnd.oci.image.manifest.v1+json"
	mtConfig   = "application/vnd.oci.image.config.v1+json"
	mtLayer    = "application/vnd.oci.image.layer.v1.tar+gzip"
)

// layer is a gzip'd tar on disk.
type layer struct {
	path   string
	digest string // of the gzip'd bytes
	diffID string // of the tar
	size   int64
}

// image is a few layers; its config and manifest are made at push time
// (with a label, so that each repetition of a benchmark pushes an image of
// another digest, which Berth scans anew, over the same layers).
type image struct {
	name    string
	layers  []layer
	archive string // docker-archive (docker save) file of the image, for osv-scanner
	note    string
}

func (img *image) String() string {
	var n int64
	for _, l := range img.layers {
		n += l.size
	}
	return fmt.Sprintf("%s: %d layers, %.1f MiB compressed; %s", img.name, len(img.layers), float64(n)/(1<<20), img.note)
}

// config is the image's config blob: linux/amd64, its layers' diff ids, and
// the labels given.
func (img *image) config(labels map[string]string) []byte {
	diffIDs := make([]string, len(img.layers))
	for i, l := range img.layers {
		diffIDs[i] = l.diffID
	}
	cfg := map[string]any{}
	if len(labels) > 0 {
		cfg["Labels"] = labels
	}
	b, _ := json.Marshal(map[string]any{
		"architecture": "amd64", "os": "linux", "config": cfg,
		"rootfs": map[string]any{"type": "layers", "diff_ids": diffIDs},
	})
	return b
}

type descriptor struct {
	MediaType string `json:"mediaType"`
	Digest    string `json:"digest"`
	Size      int64  `json:"size"`
}

func (img *image) manifest(config []byte) []byte {
	layers := make([]descriptor, len(img.layers))
	for i, l := range img.layers {
		layers[i] = descriptor{MediaType: mtLayer, Digest: l.digest, Size: l.size}
	}
	b, _ := json.Marshal(map[string]any{
		"schemaVersion": 2, "mediaType": mtManifest,
		"config": descriptor{MediaType: mtConfig, Digest: sha256Digest(config), Size: int64(len(config))},
		"layers": layers,
	})
	return b
}

func sha256Digest(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

// writeArchive writes the image as `docker save` does (manifest.json, the
// config, a file per layer), the input of `osv-scanner scan image --archive`.
func (img *image) writeArchive(path, tag string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	config := img.config(nil)
	configName := strings.TrimPrefix(sha256Digest(config), "sha256:") + ".json"
	var layerNames []string
	for _, l := range img.layers {
		layerNames = append(layerNames, strings.TrimPrefix(l.digest, "sha256:")+".tar.gz")
	}
	manifest, _ := json.Marshal([]map[string]any{{"Config": configName, "RepoTags": []string{tag}, "Layers": layerNames}})
	for _, e := range []struct {
		name string
		body []byte
	}{{"manifest.json", manifest}, {configName, config}} {
		if err := tw.WriteHeader(&tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.body)), ModTime: time.Unix(0, 0)}); err != nil {
			return err
		}
		if _, err := tw.Write(e.body); err != nil {
			return err
		}
	}
	for i, l := range img.layers {
		if err := tw.WriteHeader(&tar.Header{Name: layerNames[i], Mode: 0o644, Size: l.size, ModTime: time.Unix(0, 0)}); err != nil {
			return err
		}
		r, err := os.Open(l.path)
		if err != nil {
			return err
		}
		_, err = io.Copy(tw, r)
		r.Close()
		if err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	img.archive = path
	return f.Close()
}

// layerWriter streams a tar, gzip'd, to a file, hashing both.
type layerWriter struct {
	f        *os.File
	count    int64
	blobHash hash.Hash
	diffHash hash.Hash
	zw       *gzip.Writer
	tw       *tar.Writer
	dirs     map[string]bool
}

func newLayerWriter(path string) (*layerWriter, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	lw := &layerWriter{f: f, blobHash: sha256.New(), diffHash: sha256.New(), dirs: map[string]bool{}}
	lw.zw, err = gzip.NewWriterLevel(io.MultiWriter(f, lw.blobHash, (*counter)(&lw.count)), gzip.BestSpeed)
	if err != nil {
		return nil, err
	}
	lw.tw = tar.NewWriter(io.MultiWriter(lw.zw, lw.diffHash))
	return lw, nil
}

type counter int64

func (c *counter) Write(p []byte) (int, error) { *c += counter(len(p)); return len(p), nil }

// parents writes the directories above name that no entry wrote yet.
func (lw *layerWriter) parents(name string) error {
	parts := strings.Split(strings.TrimSuffix(name, "/"), "/")
	for i := 1; i < len(parts); i++ {
		d := strings.Join(parts[:i], "/") + "/"
		if lw.dirs[d] {
			continue
		}
		lw.dirs[d] = true
		if err := lw.tw.WriteHeader(&tar.Header{Name: d, Typeflag: tar.TypeDir, Mode: 0o755, ModTime: time.Unix(0, 0)}); err != nil {
			return err
		}
	}
	return nil
}

func (lw *layerWriter) file(name string, mode int64, r io.Reader, size int64) error {
	if err := lw.parents(name); err != nil {
		return err
	}
	if err := lw.tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: mode, Size: size, ModTime: time.Unix(0, 0)}); err != nil {
		return err
	}
	_, err := io.Copy(lw.tw, r)
	return err
}

func (lw *layerWriter) bytes(name string, mode int64, body []byte) error {
	return lw.file(name, mode, strings.NewReader(string(body)), int64(len(body)))
}

// whiteout deletes name of the layers below (the OCI whiteout file).
func (lw *layerWriter) whiteout(name string) error {
	dir, base := filepath.Split(strings.TrimSuffix(name, "/"))
	return lw.bytes(dir+".wh."+base, 0o644, nil)
}

// dir adds a directory tree of this machine at the layer's root, as it is:
// directories, regular files and symbolic links (a hard link's names are
// written as separate files).
func (lw *layerWriter) dir(root string) error {
	var paths []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != root {
			paths = append(paths, p)
		}
		return nil
	})
	if err != nil {
		return err
	}
	sort.Strings(paths)
	for _, p := range paths {
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		info, err := os.Lstat(p)
		if err != nil {
			return err
		}
		mode := int64(info.Mode().Perm())
		switch {
		case info.IsDir():
			if err := lw.parents(rel + "/x"); err != nil {
				return err
			}
		case info.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			if err := lw.parents(rel); err != nil {
				return err
			}
			if err := lw.tw.WriteHeader(&tar.Header{Name: rel, Typeflag: tar.TypeSymlink, Linkname: target, Mode: mode, ModTime: time.Unix(0, 0)}); err != nil {
				return err
			}
		case info.Mode().IsRegular():
			r, err := os.Open(p)
			if err != nil {
				return err
			}
			err = lw.file(rel, mode, r, info.Size())
			r.Close()
			if err != nil {
				return err
			}
		}
	}
	return nil
}

func (lw *layerWriter) close() (layer, error) {
	if err := lw.tw.Close(); err != nil {
		return layer{}, err
	}
	if err := lw.zw.Close(); err != nil {
		return layer{}, err
	}
	if err := lw.f.Close(); err != nil {
		return layer{}, err
	}
	return layer{path: lw.f.Name(), digest: "sha256:" + hex.EncodeToString(lw.blobHash.Sum(nil)),
		diffID: "sha256:" + hex.EncodeToString(lw.diffHash.Sum(nil)), size: lw.count}, nil
}
