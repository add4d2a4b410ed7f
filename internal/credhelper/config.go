// Package credhelper is docker-credential-berth: the docker credential
// helper protocol answered with ECR logins made from AWS profiles, for any
// registry host (custom domains, proxies, Berth, Amazon ECR).
package credhelper

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/berth-registry/berth/internal/dockercfg"
)

// ConfigEnv names the configuration file when set.
const ConfigEnv = "BERTH_CREDENTIAL_HELPER_CONFIG"

// Entry says how to log in to one registry host.
type Entry struct {
	// Profile is the AWS profile; "" means the SDK's default chain.
	Profile string `json:"profile,omitempty"`
	// Region overrides the profile's region.
	Region string `json:"region,omitempty"`
	// RegistryID is the account whose registry the host serves; "" means
	// the identity's own account.
	RegistryID string `json:"registryId,omitempty"`
	// Endpoint is the AWS API endpoint (Berth's URL); "" leaves the SDK's
	// resolution (AWS_ENDPOINT_URL, the profile's endpoint_url, AWS).
	Endpoint string `json:"endpoint,omitempty"`
}

// Config is the helper's configuration file:
//
//	{"registries": {"registry.example.com": {"profile": "dev", "endpoint": "https://registry.example.com"}}}
type Config struct {
	Registries map[string]Entry `json:"registries"`
	path       string
}

// ConfigPath is $BERTH_CREDENTIAL_HELPER_CONFIG, else
// $XDG_CONFIG_HOME/berth/credential-helper.json, else
// ~/.config/berth/credential-helper.json.
func ConfigPath(getenv func(string) string) (string, error) {
	if p := getenv(ConfigEnv); p != "" {
		return p, nil
	}
	if d := getenv("XDG_CONFIG_HOME"); d != "" {
		return filepath.Join(d, "berth", "credential-helper.json"), nil
	}
	home, err := homeDir(getenv)
	if err != nil {
		return "", err
	}
	return filepath.Join(home, ".config", "berth", "credential-helper.json"), nil
}

// CacheDir is $XDG_CACHE_HOME/berth/credential-helper, else
// ~/.cache/berth/credential-helper.
func CacheDir(getenv func(string) string) (string, error) {
	if d := getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "berth", "credential-helper"), nil
	}
	home, err := homeDir(getenv)
	if err != nil {
		return "", err
	}
	return filepath.Join(home, ".cache", "berth", "credential-helper"), nil
}

func homeDir(getenv func(string) string) (string, error) {
	if h := getenv("HOME"); h != "" {
		return h, nil
	}
	h, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("no home directory to find the helper's files in: %w", err)
	}
	return h, nil
}

// LoadConfig reads the file at path. A missing file is an empty
// configuration, so that every host is "not configured" with the path
// named, rather than a failure of every docker pull.
func LoadConfig(path string) (*Config, error) {
	c := &Config{path: path}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if err := json.Unmarshal(data, c); err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return c, nil
}

// Path is where the configuration was read from.
func (c *Config) Path() string { return c.path }

// Lookup finds the entry for a server URL or host, comparing hosts as
// docker does (no scheme, no path, case-insensitive).
func (c *Config) Lookup(server string) (host string, e Entry, ok bool) {
	host = dockercfg.NormalizeHost(server)
	for k, v := range c.Registries {
		if dockercfg.NormalizeHost(k) == host {
			return host, v, true
		}
	}
	return host, Entry{}, false
}

// Hosts are the configured hosts, sorted.
func (c *Config) Hosts() []string {
	hs := make([]string, 0, len(c.Registries))
	for k := range c.Registries {
		hs = append(hs, dockercfg.NormalizeHost(k))
	}
	sort.Strings(hs)
	return hs
}
