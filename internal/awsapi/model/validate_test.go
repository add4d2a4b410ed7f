package model

import (
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// decode reads a request body the way the front door does.
func decode(t testing.TB, body string) map[string]any {
	t.Helper()
	var in map[string]any
	dec := json.NewDecoder(strings.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&in); err != nil {
		t.Fatalf("decode %q: %v", body, err)
	}
	return in
}

type validateCase struct {
	name    string
	op      string
	body    string
	code    string   // "" when the input is valid
	message string   // exact message AWS sends
	paths   []string // violation paths, in order; nil to skip the check
}

func runValidateCases(t *testing.T, service string, cases []validateCase) {
	t.Helper()
	m := mustService(t, service)
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			err := m.ValidateInput(tt.op, decode(t, tt.body))
			if tt.code == "" {
				if err != nil {
					t.Fatalf("ValidateInput = %v, want nil", err)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("ValidateInput = %v, want *ValidationError", err)
			}
			if ve.Code != tt.code || ve.Message != tt.message {
				t.Errorf("got  %s: %s\nwant %s: %s", ve.Code, ve.Message, tt.code, tt.message)
			}
			if tt.paths != nil {
				var paths []string
				for _, v := range ve.Violations {
					paths = append(paths, v.Path)
				}
				if !slices.Equal(paths, tt.paths) {
					t.Errorf("violation paths = %q, want %q", paths, tt.paths)
				}
			}
		})
	}
}

const (
	ipe        = "InvalidParameterException"
	serial     = "SerializationException"
	ecrNamePat = `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*`
)

func invalidParam(path, constraint string) string {
	return "Invalid parameter at '" + path + "' failed to satisfy constraint: '" + constraint + "'"
}

func TestValidateInputECR(t *testing.T) {
	long := func(n int) string { return strings.Repeat("a", n) }
	runValidateCases(t, "ecr", []validateCase{
		{name: "valid CreateRepository", op: "CreateRepository", body: `{
			"repositoryName": "team/app-1", "registryId": "123456789012", "imageTagMutability": "IMMUTABLE",
			"tags": [{"Key": "k", "Value": ""}], "imageScanningConfiguration": {"scanOnPush": true},
			"encryptionConfiguration": {"encryptionType": "KMS", "kmsKey": "arn:aws:kms:us-east-1:123456789012:key/k-1"}}`},
		{name: "unknown members are ignored", op: "CreateRepository",
			body: `{"repositoryName": "ok", "bogus": {"x": [1]}, "RepositoryName": 5}`},
		{name: "longest name", op: "CreateRepository", body: `{"repositoryName": "` + long(256) + `"}`},

		// (c) required
		{name: "missing repositoryName", op: "CreateRepository", body: `{}`, code: ipe,
			message: invalidParam("repositoryName", "Member must not be null"), paths: []string{"repositoryName"}},
		{name: "null repositoryName", op: "CreateRepository", body: `{"repositoryName": null}`, code: ipe,
			message: invalidParam("repositoryName", "Member must not be null")},
		{name: "nested required", op: "CreateRepository", body: `{"repositoryName": "ok", "encryptionConfiguration": {}}`,
			code: ipe, message: invalidParam("encryptionConfiguration.encryptionType", "Member must not be null")},
		{name: "tag without value", op: "CreateRepository", body: `{"repositoryName": "ok", "tags": [{"Key": "a", "Value": "b"}, {"Key": "k"}]}`,
			code: ipe, message: invalidParam("tags.2.member.value", "Member must not be null")},

		// (a) pattern: ECR's own wording for repositoryName, with the pattern quoted.
		{name: "bad name pattern", op: "CreateRepository", body: `{"repositoryName": "Bad_Name!"}`, code: ipe,
			message: invalidParam("repositoryName", "must satisfy regular expression '"+ecrNamePat+"'"),
			paths:   []string{"repositoryName"}},
		{name: "registryId pattern, unquoted", op: "CreateRepository", body: `{"repositoryName": "ok", "registryId": "12345"}`,
			code: ipe, message: invalidParam("registryId", "must satisfy regular expression [0-9]{12}")},

		// (b) length
		{name: "name too long", op: "CreateRepository", body: `{"repositoryName": "` + long(257) + `"}`, code: ipe,
			message: invalidParam("repositoryName", "must have length less than or equal to 256")},
		{name: "name too short", op: "CreateRepository", body: `{"repositoryName": "a"}`, code: ipe,
			message: invalidParam("repositoryName", "must have length greater than or equal to 2")},
		{name: "lifecycle policy too long", op: "PutLifecyclePolicy",
			body: `{"repositoryName": "ok", "lifecyclePolicyText": "` + long(30721) + `"}`, code: ipe,
			message: invalidParam("lifecyclePolicyText", "Member must have length less than or equal to 30720")},
		{name: "lifecycle policy too short", op: "PutLifecyclePolicy",
			body: `{"repositoryName": "ok", "lifecyclePolicyText": "{}"}`, code: ipe,
			message: invalidParam("lifecyclePolicyText", "Member must have length greater than or equal to 100")},

		// (d) enum, values in Java HashSet order
		{name: "bad imageTagMutability", op: "CreateRepository", body: `{"repositoryName": "ok", "imageTagMutability": "SOMETIMES"}`,
			code: ipe, message: invalidParam("imageTagMutability",
				"Member must satisfy enum value set: [IMMUTABLE, MUTABLE, MUTABLE_WITH_EXCLUSION, IMMUTABLE_WITH_EXCLUSION]")},

		// (e) ranges
		{name: "maxResults 0", op: "DescribeRepositories", body: `{"maxResults": 0}`, code: ipe,
			message: invalidParam("maxResults", "Member must have value greater than or equal to 1")},
		{name: "maxResults 1001", op: "DescribeRepositories", body: `{"maxResults": 1001}`, code: ipe,
			message: invalidParam("maxResults", "Member must have value less than or equal to 1000")},
		{name: "maxResults beyond int32", op: "DescribeRepositories", body: `{"maxResults": 1e12}`, code: ipe,
			message: invalidParam("maxResults", "Member must have value less than or equal to 1000")},
		{name: "maxResults 1000 spelt 1e3", op: "DescribeRepositories", body: `{"maxResults": 1e3}`},

		// Several violations: ECR names one, the framework's before its own.
		{name: "first violation wins", op: "DescribeRepositories", body: `{"registryId": "x", "maxResults": 0}`,
			code: ipe, message: invalidParam("maxResults", "Member must have value greater than or equal to 1"),
			paths: []string{"maxResults", "registryId"}},

		// Lists: size, and simple elements reported at the list.
		{name: "registryIds element pattern", op: "GetAuthorizationToken", body: `{"registryIds": ["123"]}`, code: ipe,
			message: invalidParam("registryIds", "Member must satisfy constraint: [Member must satisfy regular expression pattern: [0-9]{12}]")},
		{name: "repositoryNames element", op: "DescribeRepositories", body: `{"repositoryNames": ["ok", "B"]}`, code: ipe,
			message: invalidParam("repositoryNames", "Member must satisfy constraint: [Member must have length less than or equal to 256, "+
				"Member must have length greater than or equal to 2, Member must satisfy regular expression pattern: "+
				`[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*]`)},
		{name: "imageIds empty", op: "BatchGetImage", body: `{"repositoryName": "ok", "imageIds": []}`, code: ipe,
			message: invalidParam("imageIds", "Member must have length greater than or equal to 1")},
		{name: "imageIds over 100", op: "BatchGetImage",
			body: `{"repositoryName": "ok", "imageIds": [` + strings.Repeat(`{"imageTag": "t"},`, 100) + `{"imageTag": "t"}]}`,
			code: ipe, message: invalidParam("imageIds", "Member must have length less than or equal to 100")},

		// Nested: ECR names imageTag bare although it sits in imageIds.
		{name: "empty imageTag", op: "BatchGetImage", body: `{"repositoryName": "ok", "imageIds": [{"imageTag": "latest"}, {"imageTag": ""}]}`,
			code: ipe, message: invalidParam("imageTag", "must have length greater than or equal to 1"),
			paths: []string{"imageIds.2.member.imageTag"}},
		{name: "imageTag too long", op: "BatchGetImage", body: `{"repositoryName": "ok", "imageIds": [{"imageTag": "` + long(301) + `"}]}`,
			code: ipe, message: invalidParam("imageTag", "must have length less than or equal to 300"),
			paths: []string{"imageIds.1.member.imageTag"}},
		// The model gives imageDigest no constraint; a malformed digest is the
		// handler's business (ImageNotFound / InvalidParameterException).
		{name: "malformed digest passes the model", op: "BatchGetImage",
			body: `{"repositoryName": "ok", "imageIds": [{"imageDigest": "not-a-digest"}]}`},
		// Likewise ECR's TagKey is unconstrained in the model: real ECR checks
		// tag lengths in the handler and answers InvalidTagParameterException.
		{name: "long tag key passes the model", op: "CreateRepository",
			body: `{"repositoryName": "ok", "tags": [{"Key": "` + long(129) + `", "Value": "v"}]}`},

		// Types: the first mismatch fails the request as a SerializationException.
		{name: "string for integer", op: "DescribeRepositories", body: `{"maxResults": "10"}`, code: serial,
			message: "class java.lang.String can not be converted to an Integer", paths: []string{"maxResults"}},
		{name: "boolean for integer", op: "DescribeRepositories", body: `{"maxResults": true}`, code: serial,
			message: "class java.lang.Boolean can not be converted to an Integer"},
		{name: "fraction for integer", op: "DescribeRepositories", body: `{"maxResults": 1.5}`, code: serial,
			message: "'1.5' can not be converted to an Integer"},
		{name: "number for string", op: "CreateRepository", body: `{"repositoryName": 5}`, code: serial,
			message: "class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an String"},
		{name: "object for list", op: "CreateRepository", body: `{"repositoryName": "ok", "tags": {"Key": "k"}}`, code: serial,
			message: "Start of structure or map found where not expected."},
		{name: "string for list", op: "CreateRepository", body: `{"repositoryName": "ok", "tags": "k=v"}`, code: serial,
			message: "Expected list or null"},
		{name: "list for structure", op: "CreateRepository", body: `{"repositoryName": "ok", "imageScanningConfiguration": []}`,
			code: serial, message: "Start of list found where not expected"},
		{name: "string for structure", op: "CreateRepository", body: `{"repositoryName": "ok", "imageScanningConfiguration": "on"}`,
			code: serial, message: "Expected null"},
		{name: "string for boolean", op: "CreateRepository", body: `{"repositoryName": "ok", "imageScanningConfiguration": {"scanOnPush": "true"}}`,
			code: serial, message: "'TRUE' can not be converted to an Boolean", paths: []string{"imageScanningConfiguration.scanOnPush"}},
		{name: "number in list element", op: "BatchGetImage", body: `{"repositoryName": "ok", "imageIds": [{"imageTag": 7}]}`,
			code: serial, message: "class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an String",
			paths: []string{"imageIds.1.member.imageTag"}},
		{name: "type error beats constraint", op: "CreateRepository", body: `{"repositoryName": "Bad!", "tags": 1}`, code: serial,
			message: "Expected list or null"},
		{name: "bad base64 blob", op: "UploadLayerPart", body: `{"repositoryName": "ok", "uploadId": "` +
			"0123abcd-0123-abcd-0123-0123456789ab" + `", "partFirstByte": 0, "partLastByte": 1, "layerPartBlob": "abcde"}`,
			code: serial, message: "'abcde' can not be converted to a Blob: Base64 encoded length is expected a multiple of 4 bytes but found: 5"},
	})
}

func TestValidateInputECRPublic(t *testing.T) {
	runValidateCases(t, "ecr-public", []validateCase{
		{name: "valid", op: "CreateRepository", body: `{"repositoryName": "team/app", "tags": [{"Key": "k", "Value": "v"}]}`},
		{name: "tag key too long", op: "CreateRepository",
			body: `{"repositoryName": "ok", "tags": [{"Key": "` + strings.Repeat("k", 129) + `", "Value": "v"}]}`,
			code: ipe, message: invalidParam("tags.1.member.key", "Member must have length less than or equal to 128")},
		// No bare-name wording has been seen from ECR Public: framework text.
		{name: "name pattern", op: "CreateRepository", body: `{"repositoryName": "Bad"}`, code: ipe,
			message: invalidParam("repositoryName",
				"Member must satisfy regular expression pattern: (?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*")},
	})
}

func TestValidateInputGeneric(t *testing.T) {
	const ve = "ValidationError"
	runValidateCases(t, "sts", []validateCase{
		{name: "valid AssumeRole", op: "AssumeRole",
			body: `{"RoleArn": "arn:aws:iam::123456789012:role/r", "RoleSessionName": "s1", "DurationSeconds": 3600}`},
		{name: "required listed in hash order", op: "AssumeRole", body: `{}`, code: ve,
			message: "2 validation errors detected: " +
				"Value null at 'roleArn' failed to satisfy constraint: Member must not be null; " +
				"Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null"},
		{name: "value echoed, pattern before length", op: "AssumeRole",
			body: `{"RoleArn": "arn:aws:iam::123456789012:role/r", "RoleSessionName": "!"}`, code: ve,
			message: "2 validation errors detected: " +
				`Value '!' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]*; ` +
				"Value '!' at 'roleSessionName' failed to satisfy constraint: Member must have length greater than or equal to 2"},
		{name: "sensitive value left out", op: "AssumeRoleWithWebIdentity",
			body: `{"RoleArn": "arn:aws:iam::123456789012:role/r", "RoleSessionName": "s1", "WebIdentityToken": "abc"}`, code: ve,
			message: "1 validation error detected: Value at 'webIdentityToken' failed to satisfy constraint: " +
				"Member must have length greater than or equal to 4"},
		{name: "duration range", op: "AssumeRole",
			body: `{"RoleArn": "arn:aws:iam::123456789012:role/r", "RoleSessionName": "s1", "DurationSeconds": 60}`, code: ve,
			message: "1 validation error detected: Value '60' at 'durationSeconds' failed to satisfy constraint: " +
				"Member must have value greater than or equal to 900"},
	})

	elevenTags := strings.TrimSuffix(strings.Repeat(`{"Value": "v"},`, 11), ",")
	var tenKeys []string
	for i := 1; i <= 10; i++ {
		tenKeys = append(tenKeys, "Value null at 'tags."+strconv.Itoa(i)+".member.key' failed to satisfy constraint: Member must not be null")
	}
	runValidateCases(t, "iam", []validateCase{
		{name: "lookahead pattern", op: "CreateAccountAlias", body: `{"AccountAlias": "my--alias"}`, code: ve,
			message: "1 validation error detected: Value 'my--alias' at 'accountAlias' failed to satisfy constraint: " +
				"Member must satisfy regular expression pattern: ^[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]$"},
		{name: "valid alias", op: "CreateAccountAlias", body: `{"AccountAlias": "my-alias"}`},
		{name: "list of structures", op: "TagRole", body: `{"RoleName": "r", "Tags": [{"Key": "k", "Value": "a!b"}]}`, code: ve,
			message: "1 validation error detected: Value 'a!b' at 'tags.1.member.value' failed to satisfy constraint: " +
				`Member must satisfy regular expression pattern: [\p{L}\p{Z}\p{N}_.:/=+\-@]*`},
		{name: "at most ten listed", op: "TagRole", body: `{"RoleName": "r", "Tags": [` + elevenTags + `]}`, code: ve,
			message: "10 validation errors detected: " + strings.Join(tenKeys, "; ")},
	})
}

// Every operation with required members, given "{}", must be refused with
// every required member named, and nothing else.
func TestValidateInputRequiredEverywhere(t *testing.T) {
	for _, svc := range Services() {
		m := mustService(t, svc)
		checked := 0
		for _, opName := range m.Operations() {
			op, _ := m.Operation(opName)
			if op.Input == "" {
				continue
			}
			in, _ := m.Shape(op.Input)
			var want []string
			for _, r := range in.RequiredMembers() {
				want = append(want, lowerFirst(r))
			}
			err := m.ValidateInput(opName, map[string]any{})
			if len(want) == 0 {
				if err != nil {
					t.Errorf("%s %s({}) = %v, want nil", svc, opName, err)
				}
				continue
			}
			checked++
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Errorf("%s %s({}) = %v, want *ValidationError", svc, opName, err)
				continue
			}
			var got []string
			for _, v := range ve.Violations {
				if v.kind != kindRequired || v.Constraint != "Member must not be null" {
					t.Errorf("%s %s: unexpected violation %+v", svc, opName, v)
				}
				got = append(got, v.Path)
			}
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("%s %s({}) names %v, want %v", svc, opName, got, want)
			}
			if !strings.Contains(ve.Message, "'"+ve.Violations[0].Path+"'") {
				t.Errorf("%s %s: message %q does not name %s", svc, opName, ve.Message, ve.Violations[0].Path)
			}
		}
		if checked == 0 {
			t.Errorf("%s: no operation with required members", svc)
		}
	}
}

func TestValidateInputUnknownOperation(t *testing.T) {
	m := mustService(t, "ecr")
	err := m.ValidateInput("CreateBucket", nil)
	if !errors.Is(err, ErrUnknownOperation) {
		t.Fatalf("ValidateInput(CreateBucket) = %v, want ErrUnknownOperation", err)
	}
	if err := m.ValidateInput("DescribeRegistry", nil); err != nil {
		t.Fatalf("ValidateInput(DescribeRegistry, nil) = %v", err)
	}
}

func TestValidationErrorValues(t *testing.T) {
	m := mustService(t, "ecr")
	err := m.ValidateInput("DescribeRepositories", decode(t, `{"repositoryNames": ["ok", "B"], "maxResults": 5000000000}`))
	var ve *ValidationError
	if !errors.As(err, &ve) || len(ve.Violations) != 2 {
		t.Fatalf("ValidateInput = %v", err)
	}
	values := map[string]string{}
	for _, v := range ve.Violations {
		values[v.Path] = v.Value
	}
	// Java renderings: a list's toString, an int saturated at Integer.MAX_VALUE.
	if values["repositoryNames"] != "[ok, B]" || values["maxResults"] != "2147483647" {
		t.Errorf("values = %v", values)
	}
	if ve.HTTPStatus() != 400 || !strings.HasPrefix(ve.Error(), ipe+": ") {
		t.Errorf("HTTPStatus/Error = %d %q", ve.HTTPStatus(), ve.Error())
	}
}

// Validation runs on every request: a valid one must not allocate.
func TestValidateInputValidDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race")
	}
	m := mustService(t, "ecr")
	tests := []struct{ op, body string }{
		{"BatchGetImage", `{"repositoryName": "team/app", "imageIds": [{"imageTag": "v1"}, {"imageDigest": "sha256:abc"}],
			"acceptedMediaTypes": ["application/vnd.oci.image.manifest.v1+json"]}`},
		{"DescribeRepositories", `{"registryId": "123456789012", "repositoryNames": ["a1", "b2"], "maxResults": 10}`},
		{"CreateRepository", `{"repositoryName": "ok", "imageTagMutability": "MUTABLE", "tags": [{"Key": "k", "Value": "v"}],
			"encryptionConfiguration": {"encryptionType": "AES256"}}`},
	}
	for _, tt := range tests {
		in := decode(t, tt.body)
		allocs := testing.AllocsPerRun(100, func() {
			if err := m.ValidateInput(tt.op, in); err != nil {
				t.Fatal(err)
			}
		})
		if allocs > 0 {
			t.Errorf("valid %s allocates %.0f times", tt.op, allocs)
		}
	}
}

func BenchmarkValidateInput(b *testing.B) {
	m := mustService(b, "ecr")
	in := decode(b, `{"repositoryName": "team/app", "imageTagMutability": "IMMUTABLE",
		"tags": [{"Key": "k", "Value": "v"}], "imageScanningConfiguration": {"scanOnPush": true}}`)
	b.ReportAllocs()
	for b.Loop() {
		if err := m.ValidateInput("CreateRepository", in); err != nil {
			b.Fatal(err)
		}
	}
}
