package credhelper

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/berth-registry/berth/internal/ecrlogin"
)

var t0 = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

type fetchLog struct {
	calls []string
	err   error
	exp   time.Time
}

func (f *fetchLog) fetch(_ context.Context, host string, e Entry) (*ecrlogin.Login, error) {
	f.calls = append(f.calls, host+"/"+e.Profile)
	if f.err != nil {
		return nil, f.err
	}
	return &ecrlogin.Login{Username: "AWS", Password: "pw-" + e.Profile, ExpiresAt: f.exp}, nil
}

func newHelper(t *testing.T, f *fetchLog, now *time.Time, env map[string]string) *Helper {
	t.Helper()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "credential-helper.json")
	os.WriteFile(cfgPath, []byte(`{"registries": {
		"Registry.Example:8443": {"profile": "dev", "endpoint": "https://registry.example:8443"},
		"https://111122223333.dkr.ecr.eu-west-1.amazonaws.com": {"profile": "prod", "region": "eu-west-1"}}}`), 0o600)
	cfg, err := LoadConfig(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	return &Helper{Config: cfg, Cache: Cache{Dir: filepath.Join(dir, "cache")}, Fetch: f.fetch,
		Getenv: func(k string) string { return env[k] }, Now: func() time.Time { return *now }}
}

func run(h *Helper, action, stdin string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = h.Run(context.Background(), action, strings.NewReader(stdin), &o, &e)
	return code, o.String(), e.String()
}

func TestGet(t *testing.T) {
	tests := []struct {
		name       string
		server     string
		fetchErr   error
		wantCode   int
		wantSecret string
		wantOut    string // substring of stdout
		wantErr    string // substring of stderr
	}{
		{name: "configured host", server: "registry.example:8443\n", wantSecret: "pw-dev"},
		{name: "with scheme and path", server: "https://registry.example:8443/v2/", wantSecret: "pw-dev"},
		{name: "ECR host", server: "111122223333.dkr.ecr.eu-west-1.amazonaws.com", wantSecret: "pw-prod"},
		{name: "unknown host", server: "other.example", wantCode: 1, wantOut: notFound,
			wantErr: "registry host other.example is not configured in "},
		{name: "profile fails", server: "registry.example:8443", fetchErr: errors.New("ExpiredToken: the session has ended"), wantCode: 1,
			wantOut: `logging in to registry.example:8443 with AWS profile "dev": ExpiredToken`, wantErr: `AWS profile "dev": ExpiredToken`},
		{name: "empty stdin", server: "", wantCode: 1, wantErr: "no server URL on stdin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := t0
			f := &fetchLog{err: tt.fetchErr, exp: t0.Add(12 * time.Hour)}
			h := newHelper(t, f, &now, nil)
			code, out, errOut := run(h, "get", tt.server)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d; stdout %q stderr %q", code, tt.wantCode, out, errOut)
			}
			if !strings.Contains(out, tt.wantOut) || !strings.Contains(errOut, tt.wantErr) {
				t.Errorf("stdout %q stderr %q, want %q and %q", out, errOut, tt.wantOut, tt.wantErr)
			}
			if tt.wantSecret == "" {
				return
			}
			var got struct{ ServerURL, Username, Secret string }
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("stdout %q: %v", out, err)
			}
			if got.ServerURL != strings.TrimSpace(tt.server) || got.Username != "AWS" || got.Secret != tt.wantSecret {
				t.Errorf("got %+v", got)
			}
		})
	}
}

func TestCacheUntilShortlyBeforeExpiry(t *testing.T) {
	now := t0
	env := map[string]string{}
	f := &fetchLog{exp: t0.Add(12 * time.Hour)}
	h := newHelper(t, f, &now, env)
	steps := []struct {
		name      string
		advance   time.Duration
		env       map[string]string
		action    string
		wantCalls int
	}{
		{name: "first get logs in", action: "get", wantCalls: 1},
		{name: "second get is cached", advance: time.Hour, action: "get", wantCalls: 1},
		{name: "another identity logs in", env: map[string]string{"AWS_ACCESS_KEY_ID": "AKIAOTHER"}, action: "get", wantCalls: 2},
		{name: "back to the first identity: cached", env: map[string]string{"AWS_ACCESS_KEY_ID": ""}, action: "get", wantCalls: 2},
		{name: "near expiry logs in again", advance: 11*time.Hour - Margin + time.Minute, action: "get", wantCalls: 3},
		{name: "erase drops the cache", action: "erase", wantCalls: 3},
		{name: "get after erase logs in", action: "get", wantCalls: 4},
	}
	for _, s := range steps {
		now = now.Add(s.advance)
		for k, v := range s.env {
			env[k] = v
		}
		if code, out, errOut := run(h, s.action, "registry.example:8443"); code != 0 {
			t.Fatalf("%s: exit %d %q %q", s.name, code, out, errOut)
		}
		if len(f.calls) != s.wantCalls {
			t.Errorf("%s: %d logins, want %d", s.name, len(f.calls), s.wantCalls)
		}
	}
	files, _ := filepath.Glob(filepath.Join(h.Cache.Dir, "*.json"))
	for _, p := range files {
		if st, _ := os.Stat(p); st.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", p, st.Mode().Perm())
		}
	}
	if len(files) == 0 {
		t.Error("nothing cached")
	}
}

func TestListStoreVersion(t *testing.T) {
	now := t0
	h := newHelper(t, &fetchLog{}, &now, nil)
	code, out, _ := run(h, "list", "")
	var m map[string]string
	if code != 0 || json.Unmarshal([]byte(out), &m) != nil ||
		m["registry.example:8443"] != "AWS" || m["111122223333.dkr.ecr.eu-west-1.amazonaws.com"] != "AWS" || len(m) != 2 {
		t.Errorf("list: %d %q", code, out)
	}
	code, out, errOut := run(h, "store", `{"ServerURL":"registry.example:8443","Username":"AWS","Secret":"x"}`)
	if code != 0 || out != "" || !strings.Contains(errOut, "store ignored") {
		t.Errorf("store: %d %q %q", code, out, errOut)
	}
	if code, _, errOut := run(h, "frobnicate", ""); code != 1 || !strings.Contains(errOut, `unknown action "frobnicate"`) {
		t.Errorf("unknown action: %d %q", code, errOut)
	}
}

func TestConfigPath(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{ConfigEnv: "/etc/berth/helper.json", "HOME": "/home/u"}, "/etc/berth/helper.json"},
		{map[string]string{"XDG_CONFIG_HOME": "/x", "HOME": "/home/u"}, "/x/berth/credential-helper.json"},
		{map[string]string{"HOME": "/home/u"}, "/home/u/.config/berth/credential-helper.json"},
	}
	for _, tt := range tests {
		got, err := ConfigPath(func(k string) string { return tt.env[k] })
		if err != nil || got != tt.want {
			t.Errorf("ConfigPath(%v) = %q, %v; want %q", tt.env, got, err, tt.want)
		}
	}
}

func TestLoadConfigErrors(t *testing.T) {
	dir := t.TempDir()
	c, err := LoadConfig(filepath.Join(dir, "missing.json"))
	if err != nil || len(c.Hosts()) != 0 {
		t.Errorf("missing file: %v, %v", c, err)
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"registries": [`), 0o600)
	if _, err := LoadConfig(bad); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("broken file: %v", err)
	}
}
