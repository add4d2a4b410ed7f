package ssoapi

import (
	"errors"
	"strings"
	"testing"

	"github.com/berth-registry/berth/internal/awsapi"
	"github.com/berth-registry/berth/internal/awsapi/model"
	"github.com/berth-registry/berth/internal/sso"
)

// Every code an error table answers is an exception of the service's
// model, spelt as the model spells it, and answered with the model's
// HTTP status where the model gives one.
func TestErrorTablesNameModelExceptions(t *testing.T) {
	for _, tc := range []struct {
		model string
		table []awsapi.ErrorRow
	}{
		{"sso-admin", adminErrors},
		{"identitystore", adminErrors},
		{"sso-oidc", oidcErrors},
		{"sso", portalErrors},
	} {
		m, err := model.Service(tc.model)
		if err != nil {
			t.Fatal(err)
		}
		for _, row := range tc.table {
			shape, ok := m.Shape(row.Code)
			if !ok || !shape.Exception {
				t.Errorf("%s: %s is not an exception of the model", tc.model, row.Code)
				continue
			}
			if shape.HTTPCode != 0 && shape.HTTPCode != row.Status {
				t.Errorf("%s: %s answered with %d, the model says %d", tc.model, row.Code, row.Status, shape.HTTPCode)
			}
		}
	}
}

// Every kind of refusal the OIDC and portal operations can meet has a row.
func TestErrorTablesCoverKinds(t *testing.T) {
	for _, tc := range []struct {
		name  string
		table []awsapi.ErrorRow
		kinds []error
	}{
		{"admin", adminErrors, []error{sso.ErrNotFound, sso.ErrConflict, sso.ErrValidation, sso.ErrAccessDenied}},
		{"oidc", oidcErrors, []error{sso.ErrInvalidClient, sso.ErrInvalidGrant, sso.ErrInvalidRequest, sso.ErrUnsupportedGrantType,
			sso.ErrAuthorizationPending, sso.ErrSlowDown, sso.ErrExpiredToken, sso.ErrNotFound, sso.ErrValidation}},
		{"portal", portalErrors, []error{sso.ErrUnauthorized, sso.ErrNotFound, sso.ErrValidation}},
	} {
		for _, kind := range tc.kinds {
			found := false
			for _, row := range tc.table {
				if errors.Is(kind, row.Kind) {
					found = true
				}
			}
			if !found {
				t.Errorf("%s: no row for %v", tc.name, kind)
			}
		}
	}
}

// The OIDC exceptions carry the OAuth members the model gives them.
func TestOIDCErrorMembers(t *testing.T) {
	e := oidcError(&sso.Error{Kind: sso.ErrAuthorizationPending, Message: "pending"})
	if e == nil || e.Code != "AuthorizationPendingException" || e.Members["error"] != "authorization_pending" || e.Members["error_description"] != "pending" {
		t.Errorf("oidcError = %+v", e)
	}
	for _, row := range oidcErrors {
		if oauthCodes[row.Code] == "" {
			t.Errorf("%s has no OAuth error code", row.Code)
		}
	}
	if oidcError(errors.New("disk on fire")) != nil {
		t.Error("a fault was worded as a refusal")
	}
}

func TestPage(t *testing.T) {
	items := []string{"a", "b", "c", "d", "e"}
	id := func(s string) string { return s }
	var got []string
	next := ""
	for i := 0; ; i++ {
		p, n, ok := page(items, id, 2, next)
		if !ok {
			t.Fatalf("page %d: token %q refused", i, next)
		}
		got = append(got, p...)
		if n == "" {
			break
		}
		next = n
	}
	if strings.Join(got, "") != "abcde" {
		t.Errorf("pages joined = %v", got)
	}
	if p, n, _ := page(items, id, 0, ""); len(p) != 5 || n != "" {
		t.Errorf("no MaxResults: %v %q", p, n)
	}
	if _, _, ok := page(items, id, 2, "%%%"); ok {
		t.Error("a token no page answered was accepted")
	}
	// A token stays good when the item it names is deleted meanwhile.
	_, n, _ := page(items, id, 2, "")
	if p, _, _ := page([]string{"a", "c", "d"}, id, 2, n); strings.Join(p, "") != "cd" {
		t.Errorf("after a deletion: %v", p)
	}
}
