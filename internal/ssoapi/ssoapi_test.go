package ssoapi

import (
	"errors"
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
