package model

import (
	"compress/gzip"
	"embed"
	"errors"
	"fmt"
	"slices"
	"sync"
)

// The models ship gzipped exactly as botocore has them (update.sh copies
// them), which keeps the binary small and the provenance obvious.
//
//go:embed data/*/service-2.json.gz
var modelFS embed.FS

// ErrUnknownService is returned by Service for a name it does not embed.
var ErrUnknownService = errors.New("model: unknown service")

// ErrUnknownOperation is returned for an operation the model does not define.
var ErrUnknownOperation = errors.New("model: unknown operation")

// Each service is parsed on first use only: IAM alone is ~80 kB gzipped and
// most processes never touch it.
var services = map[string]*lazyModel{
	"ecr":        {},
	"ecr-public": {},
	"sts":        {},
	"iam":        {},
	// Secrets Manager: the pull-through cache's upstream credentials.
	"secretsmanager": {},
	// IAM Identity Center: its administration (sso-admin, identitystore),
	// the OAuth device flow (sso-oidc) and the access portal (sso).
	"sso-admin":     {},
	"identitystore": {},
	"sso-oidc":      {},
	"sso":           {},
}

type lazyModel struct {
	once  sync.Once
	model *Model
	err   error
}

// Services returns the names Service accepts, sorted.
func Services() []string {
	names := make([]string, 0, len(services))
	for n := range services {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Service returns the model of one of the Services. The model is loaded and compiled on the first call and shared afterwards.
func Service(name string) (*Model, error) {
	lm, ok := services[name]
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownService, name)
	}
	lm.once.Do(func() { lm.model, lm.err = load(name) })
	return lm.model, lm.err
}

func load(name string) (*Model, error) {
	f, err := modelFS.Open("data/" + name + "/service-2.json.gz")
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", name, err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", name, err)
	}
	defer zr.Close()
	raw, err := decodeRaw(zr)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", name, err)
	}
	m, err := build(name, raw)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", name, err)
	}
	return m, nil
}

// build turns the decoded JSON into a Model and precomputes everything
// validation needs, so a broken model fails here rather than mid-request.
func build(name string, raw *rawModel) (*Model, error) {
	md := raw.Metadata
	m := &Model{
		Name: name,
		Metadata: Metadata{
			APIVersion:       md.APIVersion,
			Protocol:         md.Protocol,
			JSONVersion:      md.JSONVersion,
			TargetPrefix:     md.TargetPrefix,
			SigningName:      md.SigningName,
			EndpointPrefix:   md.EndpointPrefix,
			ServiceID:        md.ServiceID,
			ServiceFullName:  md.ServiceFullName,
			SignatureVersion: md.SignatureVersion,
			XMLNamespace:     md.XMLNamespace,
		},
		ops:    make(map[string]*Operation, len(raw.Operations)),
		shapes: make(map[string]*Shape, len(raw.Shapes)),
	}
	if m.Metadata.SigningName == "" {
		// botocore signs with the endpoint prefix when signingName is absent
		// (STS and IAM models omit it).
		m.Metadata.SigningName = md.EndpointPrefix
	}

	for sname, rs := range raw.Shapes {
		s, err := newShape(sname, rs)
		if err != nil {
			return nil, err
		}
		m.shapes[sname] = s
	}
	for opName, ro := range raw.Operations {
		op := &Operation{
			Name:         opName,
			Input:        ro.Input.Shape,
			Output:       ro.Output.Shape,
			HTTPMethod:   ro.HTTP.Method,
			RequestURI:   ro.HTTP.RequestURI,
			ResponseCode: ro.HTTP.ResponseCode,
			Deprecated:   ro.Deprecated,
			doc:          ro.Documentation,
		}
		for _, e := range ro.Errors {
			op.Errors = append(op.Errors, e.Shape)
		}
		for _, ref := range append([]string{op.Input, op.Output}, op.Errors...) {
			if _, ok := m.shapes[ref]; ref != "" && !ok {
				return nil, fmt.Errorf("operation %s refers to missing shape %q", opName, ref)
			}
		}
		m.ops[opName] = op
		m.opNames = append(m.opNames, opName)
	}
	slices.Sort(m.opNames)

	m.dialect = dialectFor(name)
	cache := make(patternCache)
	for _, s := range m.shapes {
		if err := m.compile(s, cache); err != nil {
			return nil, fmt.Errorf("shape %s: %w", s.Name, err)
		}
	}
	return m, nil
}

func newShape(name string, rs *rawShape) (*Shape, error) {
	s := &Shape{
		Name:      name,
		Type:      rs.Type,
		Pattern:   rs.Pattern,
		Enum:      rs.Enum,
		Member:    rs.Member.Shape,
		Key:       rs.Key.Shape,
		Value:     rs.Value.Shape,
		Sensitive: rs.Sensitive,
		Exception: rs.Exception,
		Fault:     rs.Fault,
		ErrorCode: rs.Error.Code,
		HTTPCode:  rs.Error.HTTPStatusCode,
	}
	var err error
	if s.Min, err = bound(rs.Min); err != nil {
		return nil, fmt.Errorf("shape %s min: %w", name, err)
	}
	if s.Max, err = bound(rs.Max); err != nil {
		return nil, fmt.Errorf("shape %s max: %w", name, err)
	}
	required := make(map[string]bool, len(rs.Required))
	for _, r := range rs.Required {
		required[r] = true
	}
	for _, rm := range rs.Members {
		s.Members = append(s.Members, Member{
			Name:         rm.Name,
			Shape:        rm.Shape,
			Required:     required[rm.Name],
			Location:     rm.Location,
			LocationName: rm.LocationName,
			Deprecated:   rm.Deprecated,
			pathName:     lowerFirst(rm.Name),
		})
		delete(required, rm.Name)
	}
	for r := range required {
		return nil, fmt.Errorf("shape %s requires unknown member %q", name, r)
	}
	return s, nil
}

// lowerFirst lowers the first letter: AWS prints member paths that way even
// for PascalCase models ("Value null at 'roleArn'", "tags.1.member.key").
func lowerFirst(s string) string {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return s
	}
	return string(s[0]+('a'-'A')) + s[1:]
}
