package credhelper

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Cached is one login kept on disk.
type Cached struct {
	Host      string    `json:"host"`
	Identity  string    `json:"identity"`
	Username  string    `json:"username"`
	Secret    string    `json:"secret"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// Cache keeps logins in a directory, one owner-only file per (host,
// identity), so that docker's many helper calls during one pull do not each
// cost an STS and an ECR round trip.
type Cache struct {
	Dir string
}

func (c Cache) file(host, identity string) string {
	sum := sha256.Sum256([]byte(host + "\x00" + identity))
	// The host prefix lets erase find every identity's entry for a host.
	return filepath.Join(c.Dir, hostPrefix(host)+hex.EncodeToString(sum[:16])+".json")
}

func hostPrefix(host string) string {
	sum := sha256.Sum256([]byte(host))
	return hex.EncodeToString(sum[:8]) + "-"
}

// Get returns the entry if it is still valid at least margin after now.
func (c Cache) Get(host, identity string, now time.Time, margin time.Duration) (*Cached, bool) {
	data, err := os.ReadFile(c.file(host, identity))
	if err != nil {
		return nil, false
	}
	var e Cached
	if json.Unmarshal(data, &e) != nil || e.Host != host || e.Identity != identity {
		return nil, false
	}
	if !now.Add(margin).Before(e.ExpiresAt) {
		return nil, false
	}
	return &e, true
}

// Put writes the entry atomically, readable by the owner only: it holds a
// registry password.
func (c Cache) Put(e *Cached) error {
	if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		return fmt.Errorf("creating the token cache: %w", err)
	}
	data, err := json.Marshal(e)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(c.Dir, ".tmp-*")
	if err != nil {
		return fmt.Errorf("writing the token cache: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		return fmt.Errorf("writing the token cache: %w", err)
	}
	// CreateTemp makes the file 0600 already; say so for the reader.
	if err := os.Chmod(tmp.Name(), 0o600); err != nil {
		return fmt.Errorf("writing the token cache: %w", err)
	}
	if err := os.Rename(tmp.Name(), c.file(e.Host, e.Identity)); err != nil {
		return fmt.Errorf("writing the token cache: %w", err)
	}
	return nil
}

// Drop removes every identity's entry for host and says how many it found.
func (c Cache) Drop(host string) (int, error) {
	ents, err := os.ReadDir(c.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("reading the token cache: %w", err)
	}
	n := 0
	for _, d := range ents {
		if strings.HasPrefix(d.Name(), hostPrefix(host)) {
			if err := os.Remove(filepath.Join(c.Dir, d.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return n, fmt.Errorf("erasing from the token cache: %w", err)
			}
			n++
		}
	}
	return n, nil
}
