package e2e

import (
	"bytes"
	"encoding/base64"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
)

// Secrets Manager through aws-sdk-go-v2: the secrets a pull-through cache
// rule's credentialArn names.

var secretARNRE = regexp.MustCompile(`^arn:aws:secretsmanager:us-east-1:000000000000:secret:ecr-pullthroughcache/hub-[A-Za-z0-9]{6}$`)

func TestSecretsManagerLifecycle(t *testing.T) {
	b := startBerth(t, "")
	ctx := withTimeout(t, 2*time.Minute)
	sm := b.SecretsManager()
	const name = "ecr-pullthroughcache/hub"
	const first = `{"username":"bob","accessToken":"t1"}`

	created, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(first),
		Description: aws.String("Docker Hub"), Tags: []smtypes.Tag{{Key: aws.String("team"), Value: aws.String("build")}}})
	if err != nil {
		t.Fatalf("CreateSecret: %v", err)
	}
	arn := aws.ToString(created.ARN)
	if !secretARNRE.MatchString(arn) || aws.ToString(created.Name) != name || len(aws.ToString(created.VersionId)) < 32 {
		t.Fatalf("CreateSecret = %s %s %s", arn, aws.ToString(created.Name), aws.ToString(created.VersionId))
	}

	// By name, by ARN, by the ARN without its suffix.
	for _, id := range []string{name, arn, arn[:len(arn)-7]} {
		got, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
		if err != nil {
			t.Fatalf("GetSecretValue(%s): %v", id, err)
		}
		if aws.ToString(got.SecretString) != first || aws.ToString(got.ARN) != arn || !slices.Equal(got.VersionStages, []string{"AWSCURRENT"}) ||
			aws.ToString(got.VersionId) != aws.ToString(created.VersionId) || got.CreatedDate == nil {
			t.Errorf("GetSecretValue(%s) = %+v", id, got)
		}
	}

	_, err = sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String("x")})
	wantAPIError(t, "CreateSecret of a taken name", err, "ResourceExistsException", http.StatusBadRequest,
		"The operation failed because the secret "+name+" already exists.")

	// A new value moves AWSCURRENT, and the old one becomes AWSPREVIOUS;
	// the same token again is ignored, with another value refused.
	const token = "11111111-2222-3333-4444-555555555555"
	put, err := sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(name), SecretString: aws.String("second"),
		ClientRequestToken: aws.String(token)})
	if err != nil || aws.ToString(put.VersionId) != token || !slices.Equal(put.VersionStages, []string{"AWSCURRENT"}) {
		t.Fatalf("PutSecretValue = %+v, %v", put, err)
	}
	if _, err := sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(name), SecretString: aws.String("second"),
		ClientRequestToken: aws.String(token)}); err != nil {
		t.Errorf("PutSecretValue retried with its token: %v", err)
	}
	_, err = sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(name), SecretString: aws.String("third"),
		ClientRequestToken: aws.String(token)})
	wantAPIErrorCode(t, "PutSecretValue of another value under a used token", err, "ResourceExistsException", http.StatusBadRequest)
	prev, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(name), VersionStage: aws.String("AWSPREVIOUS")})
	if err != nil || aws.ToString(prev.SecretString) != first {
		t.Errorf("AWSPREVIOUS = %+v, %v; want the first value", prev, err)
	}
	versions, err := sm.ListSecretVersionIds(ctx, &secretsmanager.ListSecretVersionIdsInput{SecretId: aws.String(name)})
	if err != nil || len(versions.Versions) != 2 {
		t.Fatalf("ListSecretVersionIds = %+v, %v; want two versions", versions, err)
	}

	// Binary values come back as they went.
	bin := []byte{0, 1, 2, 0xfe, 0xff}
	if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("binary"), SecretBinary: bin}); err != nil {
		t.Fatalf("CreateSecret(binary): %v", err)
	}
	gotBin, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("binary")})
	if err != nil || !bytes.Equal(gotBin.SecretBinary, bin) || gotBin.SecretString != nil {
		t.Errorf("GetSecretValue(binary) = %+v, %v", gotBin, err)
	}
	_, err = sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("both"), SecretBinary: bin, SecretString: aws.String("s")})
	wantAPIError(t, "CreateSecret with both values", err, "InvalidParameterException", http.StatusBadRequest,
		"You can't specify both a binary secret value and a string secret value in the same secret.")
	_, err = sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("bad name!"), SecretString: aws.String("s")})
	wantAPIError(t, "CreateSecret with a bad name", err, "ValidationException", http.StatusBadRequest,
		"Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!")

	// Tags, description.
	if _, err := sm.TagResource(ctx, &secretsmanager.TagResourceInput{SecretId: aws.String(arn),
		Tags: []smtypes.Tag{{Key: aws.String("env"), Value: aws.String("prod")}}}); err != nil {
		t.Fatalf("TagResource: %v", err)
	}
	if _, err := sm.UntagResource(ctx, &secretsmanager.UntagResourceInput{SecretId: aws.String(arn), TagKeys: []string{"team"}}); err != nil {
		t.Fatalf("UntagResource: %v", err)
	}
	if _, err := sm.UpdateSecret(ctx, &secretsmanager.UpdateSecretInput{SecretId: aws.String(name), Description: aws.String("Hub")}); err != nil {
		t.Fatalf("UpdateSecret: %v", err)
	}
	desc, err := sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(name)})
	if err != nil {
		t.Fatalf("DescribeSecret: %v", err)
	}
	if aws.ToString(desc.Description) != "Hub" || len(desc.Tags) != 1 || aws.ToString(desc.Tags[0].Key) != "env" ||
		!slices.Equal(desc.VersionIdsToStages[token], []string{"AWSCURRENT"}) || desc.LastAccessedDate == nil || desc.DeletedDate != nil {
		t.Errorf("DescribeSecret = %+v", desc)
	}

	// ListSecrets: filters, and pages the paginator follows.
	for _, n := range []string{"ecr-pullthroughcache/quay", "other"} {
		if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(n), SecretString: aws.String("v")}); err != nil {
			t.Fatal(err)
		}
	}
	var listed []string
	pages := secretsmanager.NewListSecretsPaginator(sm, &secretsmanager.ListSecretsInput{MaxResults: aws.Int32(1),
		Filters: []smtypes.Filter{{Key: smtypes.FilterNameStringTypeName, Values: []string{"ecr-pullthroughcache/"}}}})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			t.Fatalf("ListSecrets: %v", err)
		}
		if len(page.SecretList) > 1 {
			t.Errorf("a page of MaxResults 1 has %d secrets", len(page.SecretList))
		}
		for _, s := range page.SecretList {
			listed = append(listed, aws.ToString(s.Name))
		}
	}
	if want := []string{name, "ecr-pullthroughcache/quay"}; !slices.Equal(listed, want) {
		t.Errorf("ListSecrets by name prefix = %v, want %v (by creation)", listed, want)
	}

	// Another region is another registry.
	west := secretsmanager.NewFromConfig(b.awsConfig("eu-west-1", testAccessKeyID, testSecretAccessKey))
	_, err = west.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(name)})
	wantAPIError(t, "GetSecretValue in another region", err, "ResourceNotFoundException", http.StatusBadRequest,
		"Secrets Manager can't find the specified secret.")

	// Deletion: scheduled, refused reads, hidden from lists, restorable.
	_, err = sm.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String(name), RecoveryWindowInDays: aws.Int64(3)})
	wantAPIErrorCode(t, "DeleteSecret with a 3-day window", err, "InvalidParameterException", http.StatusBadRequest)
	_, err = sm.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String(name), RecoveryWindowInDays: aws.Int64(7),
		ForceDeleteWithoutRecovery: aws.Bool(true)})
	wantAPIError(t, "DeleteSecret with both", err, "InvalidParameterException", http.StatusBadRequest,
		"You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.")
	del, err := sm.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String(name), RecoveryWindowInDays: aws.Int64(7)})
	if err != nil {
		t.Fatalf("DeleteSecret: %v", err)
	}
	if d := time.Until(aws.ToTime(del.DeletionDate)); d < 7*24*time.Hour-time.Minute || d > 7*24*time.Hour+time.Minute {
		t.Errorf("DeletionDate is %v away, want 7 days", d)
	}
	_, err = sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(name)})
	wantAPIError(t, "GetSecretValue of a secret scheduled for deletion", err, "InvalidRequestException", http.StatusBadRequest,
		"You can't perform this operation on the secret because it was marked for deletion.")
	_, err = sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String("x")})
	wantAPIError(t, "CreateSecret of a name scheduled for deletion", err, "InvalidRequestException", http.StatusBadRequest,
		"You can't create this secret because a secret with this name is already scheduled for deletion.")
	if d, err := sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(name)}); err != nil || d.DeletedDate == nil {
		t.Errorf("DescribeSecret of a scheduled secret = %+v, %v; want its DeletedDate", d, err)
	}
	count := func(include bool) int {
		out, err := sm.ListSecrets(ctx, &secretsmanager.ListSecretsInput{IncludePlannedDeletion: aws.Bool(include)})
		if err != nil {
			t.Fatalf("ListSecrets: %v", err)
		}
		return len(out.SecretList)
	}
	if without, with := count(false), count(true); without != 3 || with != 4 {
		t.Errorf("ListSecrets lists %d secrets, %d with those scheduled for deletion; want 3 and 4", without, with)
	}
	if _, err := sm.RestoreSecret(ctx, &secretsmanager.RestoreSecretInput{SecretId: aws.String(name)}); err != nil {
		t.Fatalf("RestoreSecret: %v", err)
	}
	if got, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(name)}); err != nil || aws.ToString(got.SecretString) != "second" {
		t.Errorf("GetSecretValue after RestoreSecret = %+v, %v", got, err)
	}

	// Forced: gone at once; forcing again is no error.
	for i := range 2 {
		if _, err := sm.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String(name), ForceDeleteWithoutRecovery: aws.Bool(true)}); err != nil {
			t.Fatalf("forced DeleteSecret #%d: %v", i+1, err)
		}
	}
	_, err = sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
	wantAPIError(t, "GetSecretValue after a forced deletion", err, "ResourceNotFoundException", http.StatusBadRequest,
		"Secrets Manager can't find the specified secret.")
	if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String("again")}); err != nil {
		t.Errorf("CreateSecret after a forced deletion: %v", err)
	}
}

// TestSecretsManagerAuthorization: identity policies decide secretsmanager
// actions on secrets' ARNs, as IAM does.
func TestSecretsManagerAuthorization(t *testing.T) {
	b := startBerth(t, "")
	ctx := withTimeout(t, time.Minute)
	sm := b.SecretsManager()
	hub, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("ecr-pullthroughcache/hub"), SecretString: aws.String("h")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("db/password"), SecretString: aws.String("p")}); err != nil {
		t.Fatal(err)
	}
	ic := iam.NewFromConfig(b.awsConfig(testRegion, testAccessKeyID, testSecretAccessKey))
	cfg := azUser(t, b, ic, "puller")
	_, err = ic.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("puller"), PolicyName: aws.String("ptc"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
			"Action":["secretsmanager:GetSecretValue","secretsmanager:CreateSecret"],
			"Resource":"arn:aws:secretsmanager:*:*:secret:ecr-pullthroughcache/*"}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	user := secretsmanager.NewFromConfig(cfg)
	userARN := "arn:aws:iam::" + testAccount + ":user/puller"
	// Decisions are cached for up to 2 s on the node; a change through
	// this node drops them at once.
	got, err := user.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("ecr-pullthroughcache/hub")})
	if err != nil || aws.ToString(got.SecretString) != "h" {
		t.Fatalf("GetSecretValue allowed by the policy = %+v, %v", got, err)
	}
	dbARN := "arn:aws:secretsmanager:us-east-1:" + testAccount + ":secret:db/password"
	_, err = user.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("db/password")})
	if err == nil {
		t.Fatal("GetSecretValue outside the policy's resources succeeded")
	}
	code, msg := apiErrorCode(t, err)
	if code != "AccessDeniedException" || !regexp.MustCompile(`^User: `+regexp.QuoteMeta(userARN)+` is not authorized to perform: secretsmanager:GetSecretValue on resource: `+
		regexp.QuoteMeta(dbARN)+`-[A-Za-z0-9]{6} because no identity-based policy allows the secretsmanager:GetSecretValue action$`).MatchString(msg) {
		t.Errorf("denial = %s %q", code, msg)
	}
	_, err = user.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: hub.ARN})
	wantAPIErrorCode(t, "DescribeSecret not in the policy", err, "AccessDeniedException", http.StatusBadRequest)
	// A secret that does not exist is refused the same way, on the ARN
	// its name would have: a refused caller learns nothing.
	_, err = user.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("db/nothing")})
	wantAPIError(t, "GetSecretValue of a missing secret outside the policy", err, "AccessDeniedException", http.StatusBadRequest,
		"User: "+userARN+" is not authorized to perform: secretsmanager:GetSecretValue on resource: arn:aws:secretsmanager:us-east-1:"+testAccount+
			":secret:db/nothing because no identity-based policy allows the secretsmanager:GetSecretValue action")
	if _, err := user.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("ecr-pullthroughcache/ghcr"), SecretString: aws.String("g")}); err != nil {
		t.Errorf("CreateSecret allowed by the policy: %v", err)
	}
	_, err = user.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("elsewhere"), SecretString: aws.String("g")})
	wantAPIErrorCode(t, "CreateSecret outside the policy", err, "AccessDeniedException", http.StatusBadRequest)
}

// TestSecretsManagerValuesAtRest: values are encrypted under a key derived
// from the token key. A restart with the same key reads them; a server
// given another key cannot, and says so.
func TestSecretsManagerValuesAtRest(t *testing.T) {
	key := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	b := startBerth(t, "", "--token-key", key)
	ctx := withTimeout(t, time.Minute)
	const value = "plain-text-credential-7f3a"
	if _, err := b.SecretsManager().CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("hub"), SecretString: aws.String(value)}); err != nil {
		t.Fatal(err)
	}
	b.Stop()
	if found := grepDataDir(t, b.DataDir, []byte(value)); found != "" {
		t.Errorf("the secret's value is in %s in plain text", found)
	}
	b2 := startBerth(t, b.DataDir, "--token-key", key)
	got, err := b2.SecretsManager().GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("hub")})
	if err != nil || aws.ToString(got.SecretString) != value {
		t.Fatalf("GetSecretValue after a restart = %+v, %v", got, err)
	}
	b2.Stop()
	other := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{9}, 32))
	b3 := startBerth(t, b.DataDir, "--token-key", other)
	_, err = b3.SecretsManager().GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("hub")})
	wantAPIErrorCode(t, "GetSecretValue under another token key", err, "DecryptionFailure", http.StatusBadRequest)
}

// grepDataDir names a file under dir that contains needle, or "".
func grepDataDir(t *testing.T, dir string, needle []byte) string {
	t.Helper()
	var found string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || found != "" {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(b, needle) {
			found = path
		}
		return nil
	})
	if err != nil {
		t.Fatalf("read the data directory: %v", err)
	}
	return found
}
