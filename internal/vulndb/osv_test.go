package vulndb

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	v, err := Parse([]byte(`{
		"id": "X-1", "modified": "2024-01-02T03:04:05.123Z", "published": "2024-01-02T03:04:05",
		"withdrawn": "2024-02-01", "aliases": ["CVE-2024-1"],
		"affected": [
			{"package": {"ecosystem": "npm", "name": "p", "purl": "pkg:npm/p"},
			 "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.0.0"}, {"last_affected": "2.0.0"}, {"limit": "*"}]}],
			 "versions": ["0.1.0"], "ecosystem_specific": {"x": 1}},
			{"ranges": [{"type": "GIT", "repo": "r", "events": [{"introduced": "abc"}]}]}
		],
		"unknown_field": {"kept": "as stored"}
	}`))
	if err != nil {
		t.Fatal(err)
	}
	if !v.Modified.Equal(time.Date(2024, 1, 2, 3, 4, 5, 123e6, time.UTC)) || !v.Published.Equal(time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)) ||
		!v.Withdrawn.Equal(time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("times: %v %v %v", v.Modified, v.Published, v.Withdrawn)
	}
	ev := v.Affected[0].Ranges[0].Events
	if ev[0].Introduced != "0" || ev[1].Fixed != "1.0.0" || ev[2].LastAffected != "2.0.0" || ev[3].Limit != "*" || v.Affected[1].Package != nil {
		t.Errorf("affected: %+v", v.Affected)
	}

	for _, tc := range []struct{ record, want string }{
		{`{"id": "X"`, "unexpected EOF"},
		{`{"id": "X"} {"id": "Y"}`, "more than one"},
		{`{"id": ""}`, "no id"},
		{`{"id": 7}`, "cannot unmarshal"},
		{`{"id": "X", "modified": "yesterday"}`, "RFC 3339"},
		{`{"id": "X", "affected": [{"package": {"name": "p"}}]}`, "ecosystem and a name"},
		{`{"id": "X", "affected": [{"package": {"ecosystem": "npm", "name": "p"}, "ranges": [{"events": []}]}]}`, "no type"},
		{`{"id": "X", "affected": [{"package": {"ecosystem": "npm", "name": "p"}, "ranges": [{"type": "SEMVER", "events": [{}]}]}]}`, "exactly one"},
		{`{"id": "X", "affected": [{"package": {"ecosystem": "npm", "name": "p"}, "ranges": [{"type": "SEMVER", "events": [{"fixed": ""}]}]}]}`, "empty version"},
		{`{"id": "X", "affected": [{"package": {"ecosystem": "npm", "name": "p"}, "ranges": [{"type": "SEMVER", "events": [{"patched": "1"}]}]}]}`, "unknown kind"},
	} {
		_, err := Parse([]byte(tc.record))
		if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%s): error %v, want ErrMalformed saying %q", tc.record, err, tc.want)
		}
	}
}

func TestEncodeDecode(t *testing.T) {
	raw := []byte(`{
		"id": "X-1",
		"summary": "` + strings.Repeat("long ", 200) + `"
	}`)
	data, err := newEncoder().encode(raw)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) > len(raw)/4 {
		t.Errorf("encoded %d bytes into %d", len(raw), len(data))
	}
	v, err := decode(data)
	if err != nil || v.ID != "X-1" || !strings.HasPrefix(v.Summary, "long long") {
		t.Errorf("decode = %+v, %v", v, err)
	}
	if _, err := decode([]byte("{}")); err == nil {
		t.Errorf("decode of an unknown encoding succeeded")
	}
}

// FuzzAffects: no record and version make matching panic.
func FuzzAffects(f *testing.F) {
	f.Add(`[{"introduced":"0"},{"fixed":"1.2.3"}]`, "Go", "v1.2.2")
	f.Add(`[{"introduced":"1:1.0-1"},{"last_affected":"1:2.0-1"},{"limit":"*"}]`, "Debian:12", "1:1.5-1")
	f.Add(`[{"introduced":"1.0a1"},{"fixed":"1.0.post1"}]`, "PyPI", "1.0")
	f.Fuzz(func(t *testing.T, events, ecosystem, version string) {
		v, err := Parse([]byte(`{"id":"F","affected":[{"package":{"ecosystem":"x","name":"p"},"ranges":[{"type":"ECOSYSTEM","events":` + events + `},{"type":"SEMVER","events":` + events + `}]}]}`))
		if err != nil {
			return
		}
		Affects(&v.Affected[0], ecosystem, version)
	})
}
