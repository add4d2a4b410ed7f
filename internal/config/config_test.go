package config

import (
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name    string
		args    []string
		env     map[string]string
		check   func(*Config) bool
		wantErr string
	}{
		{name: "defaults", check: func(c *Config) bool {
			return c.Listen == "127.0.0.1:5000" && c.DataDir == "./berth-data" && !c.AutoCreateRepositories &&
				c.DefaultAccount == "000000000000" && c.DefaultRegion == "us-east-1" && c.ShutdownTimeout == 30*time.Second
		}},
		{name: "env", env: map[string]string{"BERTH_LISTEN": ":6000", "BERTH_AUTO_CREATE_REPOSITORIES": "true", "BERTH_DATA": "/srv/berth"},
			check: func(c *Config) bool {
				return c.Listen == ":6000" && c.AutoCreateRepositories && c.DataDir == "/srv/berth"
			}},
		{name: "flag wins over env", args: []string{"--listen", ":7000"}, env: map[string]string{"BERTH_LISTEN": ":6000"},
			check: func(c *Config) bool { return c.Listen == ":7000" }},
		{name: "bad env value", env: map[string]string{"BERTH_AUTO_CREATE_REPOSITORIES": "maybe"}, wantErr: "BERTH_AUTO_CREATE_REPOSITORIES"},
		{name: "bad account", args: []string{"--default-account", "123"}, wantErr: "12 digits"},
		{name: "bad region", args: []string{"--default-region", "mars"}, wantErr: "region"},
		{name: "cert without key", args: []string{"--tls-cert", "c.pem"}, wantErr: "go together"},
		{name: "bad log level", args: []string{"--log-level", "loud"}, wantErr: "--log-level"},
		{name: "bad log format", args: []string{"--log-format", "xml"}, wantErr: "--log-format"},
		{name: "stray argument", args: []string{"extra"}, wantErr: "unexpected argument"},
		{name: "stores by URL", args: []string{"--blobs", "s3://b/p?endpoint=http://127.0.0.1:9000"},
			env: map[string]string{"BERTH_META": "postgres://berth@db:5432/berth"},
			check: func(c *Config) bool {
				return c.Meta == "postgres://berth@db:5432/berth" && c.Blobs == "s3://b/p?endpoint=http://127.0.0.1:9000"
			}},
		{name: "bad meta URL", env: map[string]string{"BERTH_META": "mysql://db/berth"}, wantErr: "--meta"},
		{name: "bad blobs URL", args: []string{"--blobs", "s3://"}, wantErr: "name the bucket"},
		{name: "bad image events", args: []string{"--image-events", "kafka"}, wantErr: "--image-events"},
		{name: "vulndb sync sources, repeated and from the environment",
			args: []string{"--vulndb-sync", "https://m/Go/all.zip", "--vulndb-sync", "https://m/PyPI/all.zip, /srv/osv", "--vulndb-sync-interval", "6h"},
			check: func(c *Config) bool {
				return strings.Join(c.VulnDBSync, " ") == "https://m/Go/all.zip https://m/PyPI/all.zip /srv/osv" &&
					c.VulnDBSyncInterval == 6*time.Hour && c.VulnDBCheckInterval == time.Minute
			}},
		{name: "vulndb sync from the environment", env: map[string]string{"BERTH_VULNDB_SYNC": "https://a/all.zip,https://b/all.zip"},
			check: func(c *Config) bool { return len(c.VulnDBSync) == 2 && c.VulnDBSyncInterval == 24*time.Hour }},
		{name: "vulndb check too often", args: []string{"--vulndb-check-interval", "10ms"}, wantErr: "--vulndb-check-interval"},
		{name: "trusted proxies", env: map[string]string{"BERTH_TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.10"},
			check: func(c *Config) bool {
				return len(c.TrustedProxies) == 2 && c.TrustedProxies[0].String() == "10.0.0.0/8" && c.TrustedProxies[1].String() == "192.168.1.10/32"
			}},
		{name: "bad trusted proxy", args: []string{"--trusted-proxies", "lb.example.com"}, wantErr: "neither an IP address nor a CIDR prefix"},
		{name: "vulndb sync too often", args: []string{"--vulndb-sync-interval", "0s"}, wantErr: "--vulndb-sync-interval"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse(tc.args, func(k string) string { return tc.env[k] })
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want it to mention %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(c) {
				t.Fatalf("config = %+v", c)
			}
		})
	}
}
