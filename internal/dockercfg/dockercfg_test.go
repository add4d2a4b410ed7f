package dockercfg

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestSetAuthKeepsOtherKeys(t *testing.T) {
	tests := []struct {
		name     string
		existing string // "" for no file
		mode     os.FileMode
		wantMode os.FileMode
	}{
		{name: "no file", wantMode: 0o600},
		{name: "empty file", existing: " \n", mode: 0o644, wantMode: 0o644},
		{name: "other keys and hosts", mode: 0o640, wantMode: 0o640, existing: `{
			"auths": {"other.example": {"auth": "b3RoZXI6c2VjcmV0", "identitytoken": "tok"},
			          "127.0.0.1:5000": {"auth": "b2xkOm9sZA==", "email": "x@example.com"}},
			"credHelpers": {"gcr.io": "gcloud"},
			"proxies": {"default": {"httpProxy": "http://proxy:3128"}},
			"psFormat": "table {{.ID}}"
		}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "config.json")
			var before map[string]any
			if tt.existing != "" {
				if err := os.WriteFile(path, []byte(tt.existing), tt.mode); err != nil {
					t.Fatal(err)
				}
				os.Chmod(path, tt.mode) // umask-proof
				json.Unmarshal([]byte(tt.existing), &before)
			}
			f, err := Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			if err := f.SetAuth("127.0.0.1:5000", "AWS", "p:w"); err != nil {
				t.Fatal(err)
			}
			if err := f.Save(); err != nil {
				t.Fatal(err)
			}
			st, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if st.Mode().Perm() != tt.wantMode {
				t.Errorf("mode %v, want %v", st.Mode().Perm(), tt.wantMode)
			}
			data, _ := os.ReadFile(path)
			var after map[string]any
			if err := json.Unmarshal(data, &after); err != nil {
				t.Fatalf("written file is not JSON: %v\n%s", err, data)
			}
			for k, v := range before {
				if k == "auths" {
					continue
				}
				if got, _ := json.Marshal(after[k]); string(got) != mustJSON(v) {
					t.Errorf("key %s changed: %s, want %s", k, got, mustJSON(v))
				}
			}
			auths := after["auths"].(map[string]any)
			if before != nil {
				other := before["auths"].(map[string]any)["other.example"]
				if mustJSON(auths["other.example"]) != mustJSON(other) {
					t.Errorf("other host's entry changed: %v", auths["other.example"])
				}
			}
			want := `{"auth":"QVdTOnA6dw=="}`
			if got := mustJSON(auths["127.0.0.1:5000"]); got != want {
				t.Errorf("entry %s, want %s", got, want)
			}
			g, _ := Load(dir)
			if u, p, err := g.Auth("https://127.0.0.1:5000/v2/"); err != nil || u != "AWS" || p != "p:w" {
				t.Errorf("Auth = %q, %q, %v", u, p, err)
			}
			if left, _ := filepath.Glob(filepath.Join(dir, ".config.json.*")); len(left) > 0 {
				t.Errorf("temporary files left: %v", left)
			}
		})
	}
}

func TestSaveThroughSymlink(t *testing.T) {
	real := filepath.Join(t.TempDir(), "real.json")
	os.WriteFile(real, []byte(`{"psFormat":"x"}`), 0o600)
	dir := t.TempDir()
	if err := os.Symlink(real, filepath.Join(dir, "config.json")); err != nil {
		t.Fatal(err)
	}
	f, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	f.SetAuth("h", "AWS", "pw")
	if err := f.Save(); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Lstat(filepath.Join(dir, "config.json")); fi.Mode()&os.ModeSymlink == 0 {
		t.Error("symlink replaced by a regular file")
	}
	data, _ := os.ReadFile(real)
	var m map[string]any
	json.Unmarshal(data, &m)
	if m["psFormat"] != "x" || m["auths"] == nil {
		t.Errorf("target file = %s", data)
	}
}

func TestLoadRejectsBrokenFile(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"auths":`), 0o600)
	if _, err := Load(dir); err == nil {
		t.Fatal("a broken config.json was accepted (and would be overwritten)")
	}
}

func TestAuthAndHelper(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{
		"auths": {"https://legacy.example/v1/": {"auth": "dTpw"}, "plain.example": {"username": "a", "password": "b"}},
		"credHelpers": {"Localhost:5000": "berth"},
		"credsStore": "desktop"}`), 0o600)
	f, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		host, user, pass string
		err              error
		helper           string
	}{
		{host: "legacy.example", user: "u", pass: "p", helper: "desktop"},
		{host: "plain.example", user: "a", pass: "b", helper: "desktop"},
		{host: "localhost:5000", err: ErrNoAuth, helper: "berth"},
	}
	for _, tt := range tests {
		u, p, err := f.Auth(tt.host)
		if !errors.Is(err, tt.err) || u != tt.user || p != tt.pass {
			t.Errorf("Auth(%s) = %q, %q, %v", tt.host, u, p, err)
		}
		if h := f.Helper(tt.host); h != tt.helper {
			t.Errorf("Helper(%s) = %q, want %q", tt.host, h, tt.helper)
		}
	}
}

func TestNormalizeHost(t *testing.T) {
	for in, want := range map[string]string{
		"https://index.docker.io/v1/":            "index.docker.io",
		"http://127.0.0.1:5000":                  "127.0.0.1:5000",
		"Reg.Example:443/":                       "reg.example:443",
		" 123.dkr.ecr.us-east-1.amazonaws.com\n": "123.dkr.ecr.us-east-1.amazonaws.com",
	} {
		if got := NormalizeHost(in); got != want {
			t.Errorf("NormalizeHost(%q) = %q, want %q", in, got, want)
		}
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
