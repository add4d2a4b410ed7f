package ocidist

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/berth-registry/berth/internal/pullthrough"
	"github.com/berth-registry/berth/internal/registry"
)

// TestErrorTableCoversKinds: every kind the registry domain declares has
// an OCI status and code, with the domain's message, and anything else
// falls back to a server fault, as on the ECR API.
func TestErrorTableCoversKinds(t *testing.T) {
	for _, kind := range registry.Kinds() {
		row, ok := errorTable[kind]
		if !ok {
			t.Errorf("no OCI error for the domain's kind %q", kind)
			continue
		}
		re := toRegError(fmt.Errorf("wrapped: %w", &registry.Error{Kind: kind, Message: "what to fix", Detail: "d"}))
		if re.Status != row.status || re.Code != row.code || re.Message != "what to fix" || re.Detail != "d" {
			t.Errorf("%q: %+v, want %d %s with the domain's message", kind, re, row.status, row.code)
		}
		if row.status >= 500 {
			t.Errorf("%q is a client's error but answers %d", kind, row.status)
		}
	}
	for _, kind := range pullthrough.Kinds() {
		row, ok := pullThroughErrors[kind]
		if !ok {
			t.Errorf("no OCI error for the pull through cache's kind %q", kind)
			continue
		}
		re := toRegError(fmt.Errorf("wrapped: %w", &pullthrough.Error{Kind: kind, Message: "what to fix"}))
		if re.Status != row.status || re.Code != row.code || re.Message != "what to fix" {
			t.Errorf("%q: %+v, want %d %s with the domain's message", kind, re, row.status, row.code)
		}
	}
	if len(errorTable) != len(registry.Kinds()) {
		t.Errorf("the table has %d rows for %d kinds: a row for a kind the domain no longer declares", len(errorTable), len(registry.Kinds()))
	}
	for _, err := range []error{
		errors.New("disk on fire"),
		&registry.Error{Kind: errors.New("a kind nobody declared"), Message: "m"},
	} {
		if re := toRegError(err); re.Status != http.StatusInternalServerError || re.Code != "UNKNOWN" {
			t.Errorf("%v: %+v, want a server fault", err, re)
		}
	}
}

// storeDown is a store's error while its database cannot be reached.
type storeDown struct{}

func (storeDown) Error() string     { return "connection refused" }
func (storeDown) Unavailable() bool { return true }

// TestUnavailable: a store that cannot be reached is a 503 with a message
// that says so, whatever the domain wrapped it in.
func TestUnavailable(t *testing.T) {
	re := toRegError(fmt.Errorf("get repository app: %w", storeDown{}))
	if re.Status != http.StatusServiceUnavailable || re.Code != "UNAVAILABLE" || !strings.Contains(re.Message, "cannot reach its metadata or blob store") {
		t.Errorf("a store unavailable: %+v", re)
	}
	if re := toRegError(&registry.Error{Kind: registry.ErrNameUnknown, Message: "m"}); re.Status == http.StatusServiceUnavailable {
		t.Errorf("a domain error answered 503: %+v", re)
	}
}
