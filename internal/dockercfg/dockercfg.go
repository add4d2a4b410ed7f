// Package dockercfg reads and edits the docker client configuration
// (config.json) the way docker, podman, crane and helm read it, changing
// only the entries it is asked to and keeping every other key of the file.
package dockercfg

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Dir is the docker configuration directory: $DOCKER_CONFIG when set, else
// ~/.docker, as the docker CLI and go-containerregistry resolve it.
func Dir(getenv func(string) string) (string, error) {
	if d := getenv("DOCKER_CONFIG"); d != "" {
		return d, nil
	}
	home := getenv("HOME")
	if home == "" {
		h, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("finding the docker config: no DOCKER_CONFIG and %w", err)
		}
		home = h
	}
	return filepath.Join(home, ".docker"), nil
}

// File is a parsed config.json. Keys other than the ones this package
// edits are kept as raw JSON so that a rewrite does not lose or alter what
// other tools stored there (credsStore, proxies, plugins...).
type File struct {
	path string
	mode fs.FileMode
	keys map[string]json.RawMessage
}

// Load reads dir/config.json; a missing file is an empty configuration.
func Load(dir string) (*File, error) {
	f := &File{path: filepath.Join(dir, "config.json"), mode: 0o600, keys: map[string]json.RawMessage{}}
	data, err := os.ReadFile(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		return f, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the docker config: %w", err)
	}
	if st, err := os.Stat(f.path); err == nil {
		f.mode = st.Mode().Perm()
	}
	if len(strings.TrimSpace(string(data))) == 0 {
		return f, nil
	}
	if err := json.Unmarshal(data, &f.keys); err != nil {
		return nil, fmt.Errorf("reading the docker config %s: %w", f.path, err)
	}
	if f.keys == nil { // the file held `null`
		f.keys = map[string]json.RawMessage{}
	}
	return f, nil
}

// Path is the file's location.
func (f *File) Path() string { return f.path }

// auths is the raw "auths" object: host → entry, each entry kept raw so
// that fields such as identitytoken survive on other hosts.
func (f *File) auths() (map[string]json.RawMessage, error) {
	m := map[string]json.RawMessage{}
	raw, ok := f.keys["auths"]
	if !ok || string(raw) == "null" {
		return m, nil
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("the docker config's auths is not an object: %w", err)
	}
	return m, nil
}

// SetAuth stores user:password for host in auths[host].auth, as `docker
// login` does without a credential store. Other fields of that entry
// (email, identitytoken) are dropped, because they belonged to the login
// being replaced.
func (f *File) SetAuth(host, user, password string) error {
	m, err := f.auths()
	if err != nil {
		return err
	}
	entry, _ := json.Marshal(map[string]string{
		"auth": base64.StdEncoding.EncodeToString([]byte(user + ":" + password)),
	})
	m[host] = entry
	raw, err := json.Marshal(m)
	if err != nil {
		return err
	}
	f.keys["auths"] = raw
	return nil
}

// ErrNoAuth means the file has no credential for the host.
var ErrNoAuth = errors.New("no credential in the docker config")

// Auth returns the user and password stored for host in auths. It finds
// entries written with a scheme (https://host), as old docker versions
// wrote them.
func (f *File) Auth(host string) (user, password string, err error) {
	m, err := f.auths()
	if err != nil {
		return "", "", err
	}
	for k, raw := range m {
		if NormalizeHost(k) != NormalizeHost(host) {
			continue
		}
		var e struct {
			Auth     string `json:"auth"`
			Username string `json:"username"`
			Password string `json:"password"`
		}
		if err := json.Unmarshal(raw, &e); err != nil {
			return "", "", fmt.Errorf("the docker config's entry for %s: %w", k, err)
		}
		if e.Auth == "" {
			if e.Username == "" {
				continue
			}
			return e.Username, e.Password, nil
		}
		dec, err := base64.StdEncoding.DecodeString(e.Auth)
		if err != nil {
			return "", "", fmt.Errorf("the docker config's entry for %s is not base64: %w", k, err)
		}
		u, p, ok := strings.Cut(string(dec), ":")
		if !ok {
			return "", "", fmt.Errorf("the docker config's entry for %s is not user:password", k)
		}
		return u, p, nil
	}
	return "", "", fmt.Errorf("%s: %w", host, ErrNoAuth)
}

// Helper names the credential helper the file routes host to: its
// credHelpers entry, else credsStore, else "". Docker asks that helper
// instead of reading auths.
func (f *File) Helper(host string) string {
	var helpers map[string]string
	if raw, ok := f.keys["credHelpers"]; ok {
		_ = json.Unmarshal(raw, &helpers)
	}
	for k, v := range helpers {
		if NormalizeHost(k) == NormalizeHost(host) {
			return v
		}
	}
	var store string
	if raw, ok := f.keys["credsStore"]; ok {
		_ = json.Unmarshal(raw, &store)
	}
	return store
}

// Save writes the file atomically (a temporary file in the same directory,
// then rename) with the mode the file had, 0600 for a new one, so that a
// crash never leaves a half-written config and a reader never sees one.
func (f *File) Save() error {
	// A symlinked config.json (dotfile managers) is written through, not
	// replaced by a regular file.
	target := f.path
	if p, err := filepath.EvalSymlinks(f.path); err == nil {
		target = p
	}
	dir := filepath.Dir(target)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating the docker config directory: %w", err)
	}
	data, err := json.MarshalIndent(f.keys, "", "\t")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".config.json.*")
	if err != nil {
		return fmt.Errorf("writing the docker config: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("writing the docker config: %w", err)
	}
	if err := tmp.Chmod(f.mode); err != nil {
		tmp.Close()
		return fmt.Errorf("writing the docker config: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("writing the docker config: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing the docker config: %w", err)
	}
	if err := os.Rename(tmp.Name(), target); err != nil {
		return fmt.Errorf("writing the docker config: %w", err)
	}
	return nil
}

// NormalizeHost reduces a server URL as docker passes it around
// ("https://host/v1/", "host", "http://host:5000") to the bare host[:port].
func NormalizeHost(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.Index(s, "://"); i >= 0 {
		s = s[i+3:]
	}
	if i := strings.IndexByte(s, '/'); i >= 0 {
		s = s[:i]
	}
	return strings.ToLower(s)
}
