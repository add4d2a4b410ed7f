package ecrpublicapi

import (
	"errors"
	"fmt"
	"testing"

	"github.com/berth-registry/berth/internal/registry"
)

// TestErrorTableCoversKinds: every kind the registry domain declares is
// worded as an ECR Public exception with the domain's message; anything
// else is a server fault.
func TestErrorTableCoversKinds(t *testing.T) {
	for _, kind := range registry.Kinds() {
		code, ok := errorTable[kind]
		if !ok {
			t.Errorf("no ECR Public exception for the domain's kind %q", kind)
			continue
		}
		e := domainError(fmt.Errorf("wrapped: %w", &registry.Error{Kind: kind, Message: "what to fix"}))
		if e == nil || e.Code != code || e.Message != "what to fix" {
			t.Errorf("%q: %+v, want %s with the domain's message", kind, e, code)
		}
	}
	if len(errorTable) != len(registry.Kinds()) {
		t.Errorf("the table has %d rows for %d kinds", len(errorTable), len(registry.Kinds()))
	}
	for _, err := range []error{errors.New("disk on fire"), &registry.Error{Kind: errors.New("undeclared"), Message: "m"}} {
		if e := domainError(err); e != nil {
			t.Errorf("%v: %+v, want a server fault (nil)", err, e)
		}
	}
}
