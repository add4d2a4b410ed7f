package server

import (
	"testing"

	"github.com/berth-registry/berth/internal/awsapi"
	"github.com/berth-registry/berth/internal/awsapi/model"
	"github.com/berth-registry/berth/internal/ecrapi"
	"github.com/berth-registry/berth/internal/ecrpublicapi"
	"github.com/berth-registry/berth/internal/iamapi"
	"github.com/berth-registry/berth/internal/secretsapi"
	"github.com/berth-registry/berth/internal/ssoapi"
	"github.com/berth-registry/berth/internal/stsapi"
)

// TestModelCoverage walks every embedded AWS model: each has a service,
// and each of its operations is either served or on the service's
// explicit not-yet-served list. With -v it lists both.
func TestModelCoverage(t *testing.T) {
	byModel := map[string]*awsapi.Service{}
	for _, s := range apiServices(ecrapi.New(ecrapi.Options{}), ecrpublicapi.New(ecrpublicapi.Options{}), stsapi.New(nil), iamapi.New(nil), secretsapi.New(nil), ssoapi.New(nil)) {
		if prev := byModel[s.Model]; prev != nil {
			t.Errorf("model %s is answered by %s and by %s", s.Model, prev.Name, s.Name)
		}
		byModel[s.Model] = s
	}
	for _, name := range model.Services() {
		s := byModel[name]
		if s == nil {
			t.Errorf("no service answers the %s model", name)
			continue
		}
		if err := s.Check(); err != nil {
			t.Error(err)
		}
		m, err := model.Service(name)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s (%s): %d operations, %d served, %d not served yet", s.Name, name, len(m.Operations()), len(s.Operations), len(s.NotServed))
		t.Logf("  served: %v", s.Served())
		t.Logf("  not served yet: %v", s.NotServed)
	}
}
