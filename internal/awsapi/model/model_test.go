package model

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
)

func mustService(t testing.TB, name string) *Model {
	t.Helper()
	m, err := Service(name)
	if err != nil {
		t.Fatalf("Service(%q): %v", name, err)
	}
	return m
}

func TestServiceMetadata(t *testing.T) {
	tests := []struct {
		service string
		want    Metadata
	}{
		{"ecr", Metadata{APIVersion: "2015-09-21", Protocol: "json", JSONVersion: "1.1",
			TargetPrefix: "AmazonEC2ContainerRegistry_V20150921", SigningName: "ecr", EndpointPrefix: "api.ecr",
			ServiceID: "ECR", ServiceFullName: "Amazon Elastic Container Registry", SignatureVersion: "v4"}},
		{"ecr-public", Metadata{APIVersion: "2020-10-30", Protocol: "json", JSONVersion: "1.1",
			TargetPrefix: "SpencerFrontendService", SigningName: "ecr-public", EndpointPrefix: "api.ecr-public",
			ServiceID: "ECR PUBLIC", ServiceFullName: "Amazon Elastic Container Registry Public", SignatureVersion: "v4"}},
		{"sts", Metadata{APIVersion: "2011-06-15", Protocol: "query", SigningName: "sts", EndpointPrefix: "sts",
			ServiceID: "STS", ServiceFullName: "AWS Security Token Service", SignatureVersion: "v4",
			XMLNamespace: "https://sts.amazonaws.com/doc/2011-06-15/"}},
		{"iam", Metadata{APIVersion: "2010-05-08", Protocol: "query", SigningName: "iam", EndpointPrefix: "iam",
			ServiceID: "IAM", ServiceFullName: "AWS Identity and Access Management", SignatureVersion: "v4",
			XMLNamespace: "https://iam.amazonaws.com/doc/2010-05-08/"}},
		{"secretsmanager", Metadata{APIVersion: "2017-10-17", Protocol: "json", JSONVersion: "1.1",
			TargetPrefix: "secretsmanager", SigningName: "secretsmanager", EndpointPrefix: "secretsmanager",
			ServiceID: "Secrets Manager", ServiceFullName: "AWS Secrets Manager", SignatureVersion: "v4"}},
	}
	for _, tt := range tests {
		t.Run(tt.service, func(t *testing.T) {
			m := mustService(t, tt.service)
			if m.Metadata != tt.want {
				t.Errorf("Metadata =\n%+v\nwant\n%+v", m.Metadata, tt.want)
			}
			if m.Name != tt.service {
				t.Errorf("Name = %q", m.Name)
			}
		})
	}
}

func TestServiceUnknown(t *testing.T) {
	if _, err := Service("s3"); !errors.Is(err, ErrUnknownService) {
		t.Fatalf("Service(s3) error = %v, want ErrUnknownService", err)
	}
	if got := Services(); !slices.Equal(got, []string{"ecr", "ecr-public", "iam", "identitystore", "secretsmanager", "sso", "sso-admin", "sso-oidc", "sts"}) {
		t.Errorf("Services() = %v", got)
	}
}

// Service is called from every request goroutine; the lazy load must be
// race-free and hand out one shared model.
func TestServiceConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	got := make([]*Model, 16)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], _ = Service("ecr-public")
		}()
	}
	wg.Wait()
	for _, m := range got {
		if m == nil || m != got[0] {
			t.Fatal("Service returned different or nil models")
		}
	}
}

func TestOperations(t *testing.T) {
	m := mustService(t, "ecr")
	ops := m.Operations()
	if !slices.IsSorted(ops) || len(ops) < 50 {
		t.Fatalf("Operations() = %d names, sorted=%v", len(ops), slices.IsSorted(ops))
	}
	ops[0] = "mutated"
	if m.Operations()[0] == "mutated" {
		t.Error("Operations() exposes the model's slice")
	}

	op, ok := m.Operation("CreateRepository")
	if !ok {
		t.Fatal("no CreateRepository")
	}
	if op.Input != "CreateRepositoryRequest" || op.Output != "CreateRepositoryResponse" ||
		op.HTTPMethod != "POST" || op.RequestURI != "/" {
		t.Errorf("CreateRepository = %+v", op)
	}
	if !slices.Contains(op.Errors, "RepositoryAlreadyExistsException") {
		t.Errorf("CreateRepository errors = %v", op.Errors)
	}
	if _, ok := m.Operation("CreateBucket"); ok {
		t.Error("Operation(CreateBucket) found")
	}
}

func TestShapes(t *testing.T) {
	m := mustService(t, "ecr")
	i64 := func(n int64) *int64 { return &n }
	eq := func(a, b *int64) bool { return a == nil && b == nil || a != nil && b != nil && *a == *b }

	tests := []struct {
		name              string
		typ               string
		min, max          *int64
		pattern           string
		enum              []string
		member, key, val  string
		required, members []string
	}{
		{name: "RepositoryName", typ: "string", min: i64(2), max: i64(256),
			pattern: `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*`},
		{name: "ImageTagMutability", typ: "string",
			enum: []string{"MUTABLE", "IMMUTABLE", "IMMUTABLE_WITH_EXCLUSION", "MUTABLE_WITH_EXCLUSION"}},
		{name: "MaxResults", typ: "integer", min: i64(1), max: i64(1000)},
		{name: "ImageIdentifierList", typ: "list", min: i64(1), max: i64(100), member: "ImageIdentifier"},
		{name: "Tags", typ: "map", key: "TagKey", val: "TagValue"},
		{name: "BatchGetImageRequest", typ: "structure", required: []string{"repositoryName", "imageIds"},
			members: []string{"registryId", "repositoryName", "imageIds", "acceptedMediaTypes"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ok := m.Shape(tt.name)
			if !ok {
				t.Fatal("missing")
			}
			if s.Type != tt.typ || !eq(s.Min, tt.min) || !eq(s.Max, tt.max) || s.Pattern != tt.pattern ||
				!slices.Equal(s.Enum, tt.enum) || s.Member != tt.member || s.Key != tt.key || s.Value != tt.val {
				t.Errorf("shape = %+v", s)
			}
			if got := s.RequiredMembers(); !slices.Equal(got, tt.required) {
				t.Errorf("RequiredMembers() = %v, want %v", got, tt.required)
			}
			var names []string
			for _, mem := range s.Members {
				names = append(names, mem.Name)
			}
			if !slices.Equal(names, tt.members) { // model order, not sorted
				t.Errorf("members = %v, want %v", names, tt.members)
			}
		})
	}

	iam := mustService(t, "iam")
	if s, _ := iam.Shape("NoSuchEntityException"); !s.Exception || s.ErrorCode != "NoSuchEntity" || s.HTTPCode != 404 {
		t.Errorf("NoSuchEntityException = %+v", s)
	}
	sts := mustService(t, "sts")
	if s, _ := sts.Shape("clientTokenType"); !s.Sensitive {
		t.Error("clientTokenType not sensitive")
	}
}

func TestErrorShapesAndHasError(t *testing.T) {
	ecr := mustService(t, "ecr")
	errs := ecr.ErrorShapes("CreateRepository")
	if len(errs) == 0 || errs[0] != "ServerException" {
		t.Errorf("ErrorShapes(CreateRepository) = %v", errs)
	}
	if ecr.ErrorShapes("Nope") != nil {
		t.Error("ErrorShapes(unknown) != nil")
	}
	iam := mustService(t, "iam")
	tests := []struct {
		m        *Model
		op, code string
		want     bool
	}{
		{ecr, "CreateRepository", "RepositoryAlreadyExistsException", true},
		{ecr, "CreateRepository", "InvalidParameterException", true},
		{ecr, "CreateRepository", "RepositoryNotFoundException", false},
		{ecr, "DescribeRepositories", "RepositoryNotFoundException", true},
		{ecr, "Nope", "ServerException", false},
		{iam, "GetRole", "NoSuchEntity", true}, // the query wire code
		{iam, "GetRole", "NoSuchEntityException", true},
		{iam, "GetRole", "EntityAlreadyExists", false},
	}
	for _, tt := range tests {
		if got := tt.m.HasError(tt.op, tt.code); got != tt.want {
			t.Errorf("%s HasError(%s, %s) = %v", tt.m.Name, tt.op, tt.code, got)
		}
	}
}

func TestDocumentation(t *testing.T) {
	for _, svc := range Services() {
		m := mustService(t, svc)
		for _, op := range m.Operations() {
			doc := m.Documentation(op)
			if doc == "" || strings.ContainsAny(doc, "<>") || len([]rune(doc)) > maxDocLen {
				t.Errorf("%s %s: Documentation = %q", svc, op, doc)
			}
		}
	}
	ecr := mustService(t, "ecr")
	if got, want := ecr.Documentation("BatchGetImage"), "Gets detailed information for an image."; got != want {
		t.Errorf("Documentation(BatchGetImage) = %q, want %q", got, want)
	}
	if ecr.Documentation("Nope") != "" {
		t.Error("Documentation(unknown) != \"\"")
	}
}

func TestJavaHashOrder(t *testing.T) {
	if h := javaStringHash("hello"); h != 99162322 {
		t.Errorf(`hash("hello") = %d`, h)
	}
	if h := javaStringHash("😀"); h != 1772899 { // two UTF-16 units: 0xD83D, 0xDE00
		t.Errorf(`hash("😀") = %d`, h)
	}
	// Orders AWS was seen to print (see javahash.go for the sources).
	tests := []struct{ in, want []string }{
		{[]string{"MUTABLE", "IMMUTABLE", "IMMUTABLE_WITH_EXCLUSION", "MUTABLE_WITH_EXCLUSION"},
			[]string{"IMMUTABLE", "MUTABLE", "MUTABLE_WITH_EXCLUSION", "IMMUTABLE_WITH_EXCLUSION"}},
		{[]string{"MUTABLE", "IMMUTABLE"}, []string{"IMMUTABLE", "MUTABLE"}},
		{[]string{"RESEND", "SUPPRESS"}, []string{"SUPPRESS", "RESEND"}},
		{[]string{"OFF", "ON", "OPTIONAL"}, []string{"OPTIONAL", "OFF", "ON"}},
		{[]string{"archiveName", "description", "eventPattern", "retentionDays"},
			[]string{"retentionDays", "archiveName", "description", "eventPattern"}},
		{[]string{"a", "a"}, []string{"a"}},
	}
	for _, tt := range tests {
		if got := javaHashOrdered(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("javaHashOrdered(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
	// More than 12 keys doubles the table, which changes the order.
	var keys []string
	for c := 'a'; c <= 'z'; c++ {
		keys = append(keys, string(c)+"x")
	}
	if got := javaHashOrdered(keys); len(got) != len(keys) {
		t.Errorf("lost keys: %v", got)
	}
}
