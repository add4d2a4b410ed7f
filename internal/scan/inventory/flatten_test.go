package inventory

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"testing"
)

// walkLayers runs flatten over tar streams (base first) and returns what
// the image holds: each non-directory path and the content it has there.
func walkLayers(t testing.TB, layers [][]byte) map[string]string {
	t.Helper()
	var readers []layerReader
	for i, l := range layers {
		readers = append(readers, layerReader{index: i, open: func() (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(l)), nil
		}})
	}
	got := map[string]string{}
	err := flatten(t.Context(), readers, func(name string, hdr *tar.Header, r io.Reader) error {
		if _, dup := got[name]; dup {
			t.Errorf("%s visited twice", name)
		}
		switch hdr.Typeflag {
		case tar.TypeSymlink:
			got[name] = "-> " + hdr.Linkname
		default:
			b, err := io.ReadAll(r)
			if err != nil {
				return err
			}
			got[name] = string(b)
		}
		return nil
	})
	must(t, err)
	return got
}

func TestFlatten(t *testing.T) {
	for _, tc := range []struct {
		name   string
		layers [][]entry
		want   map[string]string
	}{{
		name:   "upper layer wins",
		layers: [][]entry{{file("a/x", "1"), file("a/y", "1")}, {file("a/x", "2")}},
		want:   map[string]string{"a/x": "2", "a/y": "1"},
	}, {
		name:   "whiteout of a file",
		layers: [][]entry{{file("a/x", "1"), file("a/y", "1")}, {whiteout("a", "x")}},
		want:   map[string]string{"a/y": "1"},
	}, {
		name:   "whiteout of a directory takes its contents",
		layers: [][]entry{{file("a/b/x", "1"), file("a/c", "1")}, {whiteout("a", "b")}},
		want:   map[string]string{"a/c": "1"},
	}, {
		name:   "opaque directory keeps its own layer's files",
		layers: [][]entry{{file("a/x", "1"), file("a/b/y", "1"), file("z", "1")}, {opaque("a"), file("a/n", "2")}},
		want:   map[string]string{"a/n": "2", "z": "1"},
	}, {
		name:   "opaque directory does not hide upper layers",
		layers: [][]entry{{file("a/x", "1")}, {opaque("a"), file("a/n", "2")}, {file("a/m", "3")}},
		want:   map[string]string{"a/n": "2", "a/m": "3"},
	}, {
		name:   "a file replaces a directory",
		layers: [][]entry{{file("a/x", "1")}, {file("a", "2")}},
		want:   map[string]string{"a": "2"},
	}, {
		name:   "a directory replaces a file",
		layers: [][]entry{{file("a", "1")}, {file("a/x", "2")}},
		want:   map[string]string{"a/x": "2"},
	}, {
		name:   "a symbolic link replaces a directory",
		layers: [][]entry{{file("lib/x", "1")}, {symlink("lib", "usr/lib")}},
		want:   map[string]string{"lib": "-> usr/lib"},
	}, {
		name:   "a directory deleted, then made again",
		layers: [][]entry{{file("a/x", "1")}, {whiteout("", "a")}, {file("a/y", "3")}},
		want:   map[string]string{"a/y": "3"},
	}, {
		name:   "a directory replaced by a file, then made again",
		layers: [][]entry{{file("a/x", "1")}, {file("a", "2")}, {file("a/y", "3")}},
		want:   map[string]string{"a/y": "3"},
	}, {
		name:   "an opaque root hides every layer below",
		layers: [][]entry{{file("a/x", "1")}, {file("b", "2")}, {file(opaqueMarker, ""), file("c", "3")}, {file("d", "4")}},
		want:   map[string]string{"c": "3", "d": "4"},
	}, {
		name:   "names are cleaned",
		layers: [][]entry{{file("./a/x", "1"), file("/b", "1")}, {file("a/../a/x", "2")}},
		want:   map[string]string{"a/x": "2", "b": "1"},
	}, {
		name:   "names cannot climb out",
		layers: [][]entry{{file("../../etc/x", "1")}},
		want:   map[string]string{"etc/x": "1"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			var layers [][]byte
			for _, l := range tc.layers {
				layers = append(layers, tarOf(t, l...))
			}
			got := walkLayers(t, layers)
			if !maps.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
			if model := applyLayers(tc.layers); !maps.Equal(model, tc.want) {
				t.Errorf("the model gives %v; the table is wrong", model)
			}
		})
	}
}

// applyLayers is what a container runtime does with layers, base first:
// each layer's whiteouts and opaque markers delete from what lies below,
// then its entries are written, a directory merging with a directory and
// anything else replacing what was at its path (and under it). It is the
// model flatten, which reads the other way round, must agree with.
func applyLayers(layers [][]entry) map[string]string {
	type node struct {
		dir     bool
		content string
	}
	fsys := map[string]node{}
	removeUnder := func(p string, self bool) {
		for k := range fsys {
			if (self && k == p) || p == "" || strings.HasPrefix(k, p+"/") {
				delete(fsys, k)
			}
		}
	}
	for _, l := range layers {
		for _, e := range l {
			name := cleanName(e.name)
			dir, base := splitName(name)
			switch {
			case base == opaqueMarker:
				removeUnder(dir, false)
			case strings.HasPrefix(base, whiteoutPrefix):
				removeUnder(joinName(dir, base[len(whiteoutPrefix):]), true)
			}
		}
		for _, e := range l {
			name := cleanName(e.name)
			// Parents, as tarOf writes them (for markers too).
			for i := range len(name) {
				if name[i] == '/' {
					if p := name[:i]; !fsys[p].dir {
						removeUnder(p, true)
						fsys[p] = node{dir: true}
					}
				}
			}
			if _, base := splitName(name); strings.HasPrefix(base, whiteoutPrefix) {
				continue
			}
			n := node{dir: e.typ == tar.TypeDir, content: string(e.body)}
			if e.typ == tar.TypeSymlink {
				n.content = "-> " + e.link
			}
			if old, ok := fsys[name]; ok && !(old.dir && n.dir) {
				removeUnder(name, true)
			}
			fsys[name] = n
		}
	}
	out := map[string]string{}
	for k, n := range fsys {
		if !n.dir {
			out[k] = n.content
		}
	}
	return out
}

func splitName(name string) (dir, base string) {
	i := strings.LastIndexByte(name, '/')
	if i < 0 {
		return "", name
	}
	return name[:i], name[i+1:]
}

func joinName(dir, base string) string {
	if dir == "" {
		return base
	}
	return dir + "/" + base
}

// FuzzFlatten checks flatten against the model on layers made of a few
// names, files, directories, links, whiteouts and opaque markers.
func FuzzFlatten(f *testing.F) {
	f.Add([]byte{0, 3, 9, 1, 2, 3, 4})
	f.Add([]byte{0, 1, 0, 5, 9, 3, 1, 9, 4, 5, 0, 6})
	f.Add([]byte{2, 7, 0, 8, 9, 3, 2, 9, 0, 2})
	f.Fuzz(func(t *testing.T, program []byte) {
		layers := layersFromProgram(program)
		var tars [][]byte
		for _, l := range layers {
			tars = append(tars, tarOf(t, l...))
		}
		got := walkLayers(t, tars)
		want := applyLayers(layers)
		if !maps.Equal(got, want) {
			t.Errorf("layers %v:\nflatten %v\nmodel   %v", layers, sorted(got), sorted(want))
		}
	})
}

// layersFromProgram reads pairs of bytes (operation, name) into layers;
// operation 9 starts a new layer, 8 is an opaque marker at the root. A name that would clash with another of
// the same layer (two entries at one path, a file above a file) is
// skipped: a layer holds one entry per path.
func layersFromProgram(program []byte) [][]entry {
	names := []string{"a", "b", "a/a", "a/b", "b/a", "a/a/a", "a/a/b", "a/b/a"}
	layers := [][]entry{nil}
	kinds := map[string]bool{} // this layer's paths: true for directories
	for i := 0; i+1 < len(program) && len(layers) <= 6; i += 2 {
		op, name := program[i]%10, names[int(program[i+1])%len(names)]
		if op == 9 {
			layers = append(layers, nil)
			kinds = map[string]bool{}
			continue
		}
		var e entry
		switch {
		case op == 8:
			e = file(opaqueMarker, "") // an opaque root
		case op%4 == 0:
			e = file(name, fmt.Sprintf("%d:%d", len(layers), i))
		case op%4 == 1:
			e = dir(name)
		case op%4 == 2:
			e = symlink(name, "/x")
		case op == 3:
			d, b := splitName(name)
			e = file(joinName(d, whiteoutPrefix+b), "")
		default: // 7
			e = file(name+"/"+opaqueMarker, "")
		}
		path := cleanName(e.name)
		if !fits(kinds, path, e.typ == tar.TypeDir) {
			continue
		}
		l := len(layers) - 1
		layers[l] = append(layers[l], e)
	}
	return layers
}

// fits adds path (and its parents, as directories) to a layer's paths
// unless it clashes with them.
func fits(kinds map[string]bool, path string, isDir bool) bool {
	if _, ok := kinds[path]; ok {
		return false
	}
	for k := range kinds {
		if strings.HasPrefix(k, path+"/") {
			return false // path would be a file above k
		}
	}
	parts := strings.Split(path, "/")
	for i := 1; i < len(parts); i++ {
		if d, ok := kinds[strings.Join(parts[:i], "/")]; ok && !d {
			return false
		}
	}
	for i := 1; i < len(parts); i++ {
		kinds[strings.Join(parts[:i], "/")] = true
	}
	kinds[path] = isDir
	return true
}

func sorted(m map[string]string) []string {
	var out []string
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	slices.Sort(out)
	return out
}
