package ecrapi

import (
	"errors"
	"fmt"
	"testing"

	"github.com/berth-registry/berth/internal/pullthrough"
	"github.com/berth-registry/berth/internal/registry"
	"github.com/berth-registry/berth/internal/replicate"
	"github.com/berth-registry/berth/internal/scan"
)

// TestErrorTableCoversKinds: every kind the registry domain declares is
// worded as an ECR exception, with the domain's message, and anything
// else falls back to a server fault, as on the data plane.
func TestErrorTableCoversKinds(t *testing.T) {
	for _, kind := range registry.Kinds() {
		code, ok := errorTable[kind]
		if !ok {
			t.Errorf("no ECR exception for the domain's kind %q", kind)
			continue
		}
		e := domainError(fmt.Errorf("wrapped: %w", &registry.Error{Kind: kind, Message: "what to fix"}))
		if e == nil || e.Code != code || e.Message != "what to fix" || e.Status != 400 {
			t.Errorf("%q: %+v, want %s with the domain's message", kind, e, code)
		}
	}
	for _, kind := range scan.Kinds() {
		code, ok := scanErrorTable[kind]
		if !ok {
			t.Errorf("no ECR exception for the scanning domain's kind %q", kind)
			continue
		}
		e := domainError(fmt.Errorf("wrapped: %w", &scan.Error{Kind: kind, Message: "what to fix"}))
		if e == nil || e.Code != code || e.Message != "what to fix" || e.Status != 400 {
			t.Errorf("%q: %+v, want %s with the domain's message", kind, e, code)
		}
	}
	for _, kind := range replicate.Kinds() {
		code, ok := replicationErrorTable[kind]
		if !ok {
			t.Errorf("no ECR exception for the replication domain's kind %q", kind)
			continue
		}
		e := domainError(fmt.Errorf("wrapped: %w", &replicate.Error{Kind: kind, Message: "what to fix"}))
		if e == nil || e.Code != code || e.Message != "what to fix" || e.Status != 400 {
			t.Errorf("%q: %+v, want %s with the domain's message", kind, e, code)
		}
	}
	if len(replicationErrorTable) != len(replicate.Kinds()) {
		t.Errorf("the replication table has %d rows for %d kinds", len(replicationErrorTable), len(replicate.Kinds()))
	}
	for _, kind := range pullthrough.Kinds() {
		code, ok := pullThroughErrorTable[kind]
		if !ok {
			t.Errorf("no ECR exception for the pull through cache's kind %q", kind)
			continue
		}
		e := domainError(fmt.Errorf("wrapped: %w", &pullthrough.Error{Kind: kind, Message: "what to fix"}))
		if e == nil || e.Code != code || e.Message != "what to fix" {
			t.Errorf("%q: %+v, want %s with the domain's message", kind, e, code)
		}
	}
	if len(pullThroughErrorTable) != len(pullthrough.Kinds()) {
		t.Errorf("the pull through cache table has %d rows for %d kinds", len(pullThroughErrorTable), len(pullthrough.Kinds()))
	}
	if len(scanErrorTable) != len(scan.Kinds()) {
		t.Errorf("the scanning table has %d rows for %d kinds", len(scanErrorTable), len(scan.Kinds()))
	}
	if len(errorTable) != len(registry.Kinds()) {
		t.Errorf("the table has %d rows for %d kinds: a row for a kind the domain no longer declares", len(errorTable), len(registry.Kinds()))
	}
	for _, err := range []error{
		errors.New("disk on fire"),
		&registry.Error{Kind: errors.New("a kind nobody declared"), Message: "m"},
	} {
		if e := domainError(err); e != nil {
			t.Errorf("%v: %+v, want a server fault (nil)", err, e)
		}
	}
}
