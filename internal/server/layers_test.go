package server

import (
	"go/build"
	"strings"
	"testing"
)

// TestLayers keeps the layers apart: the domains see neither HTTP nor SQL
// nor the front door, and the front doors reach storage only through a
// domain.
func TestLayers(t *testing.T) {
	const module = "github.com/berth-registry/berth/"
	domain := []string{"net/http", "database/sql", "github.com/jackc/pgx", module + "internal/awsapi",
		module + "internal/meta/sqlite", module + "internal/meta/postgres"}
	frontDoor := []string{module + "internal/meta"}
	for _, tc := range []struct {
		pkg       string
		forbidden []string
	}{
		{"registry", domain},
		{"iam", domain},
		{"vulndb", domain},
		{"scan", domain},
		{"secrets", domain},
		// The cache's HTTP client is its own package (pullthrough/upstream).
		{"pullthrough", domain},
		// A migration copies through the stores' interfaces, never their SQL.
		{"migrate", domain},
		{"awsapi", frontDoor},
		{"ecrapi", frontDoor},
		{"ecrpublicapi", frontDoor},
		{"iamapi", frontDoor},
		{"stsapi", frontDoor},
		{"secretsapi", frontDoor},
		{"ocidist", frontDoor},
	} {
		p, err := build.Import(module+"internal/"+tc.pkg, "", 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range p.Imports {
			for _, bad := range tc.forbidden {
				if imp == bad || strings.HasPrefix(imp, bad+"/") {
					t.Errorf("internal/%s imports %s", tc.pkg, imp)
				}
			}
		}
	}
}
