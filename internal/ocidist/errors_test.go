package ocidist

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

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
