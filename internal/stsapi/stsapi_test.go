package stsapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/berth-registry/berth/internal/authn"
	"github.com/berth-registry/berth/internal/authz"
	"github.com/berth-registry/berth/internal/awsapi"
	"github.com/berth-registry/berth/internal/awsapi/model"
	"github.com/berth-registry/berth/internal/iam"
	"github.com/berth-registry/berth/internal/meta/sqlite"
)

// TestErrorTableCoversKinds: every kind the IAM domain declares is worded
// as an STS error; an error of no kind is a server fault.
func TestErrorTableCoversKinds(t *testing.T) {
	for _, kind := range iam.Kinds() {
		err := &iam.Error{Kind: kind, Message: "the domain's words"}
		e := domainError(err)
		if e == nil || e.Code == "" || e.Status < 400 || e.Status >= 500 || e.Message != "the domain's words" {
			t.Errorf("%v: %+v", kind, e)
		}
	}
	for _, err := range []error{
		&iam.Error{Kind: errors.New("a kind nobody mapped"), Message: "?"},
		errors.New("disk on fire"),
	} {
		if e := domainError(err); e != nil {
			t.Errorf("%v: %+v, want nil (a server fault)", err, e)
		}
	}
}

const account = "123456789012"

// TestExpiredSession assumes a role through the front door, then signs
// requests with the session's credentials once its expiry has passed on
// the directory's clock: both protocols refuse them as expired, in their
// own words.
func TestExpiredSession(t *testing.T) {
	ctx := t.Context()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ids := iam.New(db, iam.Options{Authorizer: authz.AccountOwner{}})
	if _, err := ids.CreateUser(ctx, account, "bob", ""); err != nil {
		t.Fatal(err)
	}
	key, err := ids.CreateAccessKey(ctx, account, "bob")
	if err != nil {
		t.Fatal(err)
	}
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + account + `:user/bob"},"Action":"sts:AssumeRole"}]}`
	if _, err := ids.CreateRole(ctx, account, iam.NewRole{Name: "r", AssumeRolePolicyDocument: trust}); err != nil {
		t.Fatal(err)
	}
	ecr, err := model.Service("ecr")
	if err != nil {
		t.Fatal(err)
	}
	dir := authn.NewStore(db, nil)
	s, err := awsapi.New(awsapi.Options{
		Services:  []*awsapi.Service{New(ids).Service(), {Name: "ECR", Model: "ecr", NotServed: ecr.Operations()}},
		Directory: dir, Authorizer: authz.AccountOwner{}, Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}

	call := func(service string, creds aws.Credentials, body []byte, header map[string]string) (int, []byte) {
		t.Helper()
		r := httptest.NewRequest(http.MethodPost, "http://berth.test/", bytes.NewReader(body))
		for k, v := range header {
			r.Header.Set(k, v)
		}
		sum := sha256.Sum256(body)
		if err := v4.NewSigner().SignHTTP(ctx, creds, r, hex.EncodeToString(sum[:]), service, "us-east-1", time.Now()); err != nil {
			t.Fatal(err)
		}
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		out, _ := io.ReadAll(w.Result().Body)
		return w.Code, out
	}
	form := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	sts := func(creds aws.Credentials, params string) (int, []byte) {
		return call("sts", creds, []byte(params+"&Version=2011-06-15"), form)
	}
	queryError := func(body []byte) (code, msg string) {
		var e struct {
			Code    string `xml:"Error>Code"`
			Message string `xml:"Error>Message"`
		}
		xml.Unmarshal(body, &e)
		return e.Code, e.Message
	}

	status, body := sts(aws.Credentials{AccessKeyID: key.ID, SecretAccessKey: key.SecretAccessKey},
		"Action=AssumeRole&RoleSessionName=xy&DurationSeconds=900&RoleArn="+url.QueryEscape("arn:aws:iam::"+account+":role/r"))
	var assumed struct {
		AccessKeyID     string    `xml:"AssumeRoleResult>Credentials>AccessKeyId"`
		SecretAccessKey string    `xml:"AssumeRoleResult>Credentials>SecretAccessKey"`
		SessionToken    string    `xml:"AssumeRoleResult>Credentials>SessionToken"`
		Expiration      time.Time `xml:"AssumeRoleResult>Credentials>Expiration"`
		Arn             string    `xml:"AssumeRoleResult>AssumedRoleUser>Arn"`
	}
	if err := xml.Unmarshal(body, &assumed); status != http.StatusOK || err != nil || assumed.SessionToken == "" {
		t.Fatalf("AssumeRole: %d %s", status, body)
	}
	if assumed.Arn != "arn:aws:sts::"+account+":assumed-role/r/xy" {
		t.Errorf("AssumeRole Arn = %s", assumed.Arn)
	}
	session := aws.Credentials{AccessKeyID: assumed.AccessKeyID, SecretAccessKey: assumed.SecretAccessKey, SessionToken: assumed.SessionToken}
	withoutToken := session
	withoutToken.SessionToken = ""

	if status, body := sts(session, "Action=GetCallerIdentity"); status != http.StatusOK {
		t.Fatalf("GetCallerIdentity with a live session: %d %s", status, body)
	}
	status, body = sts(withoutToken, "Action=GetCallerIdentity")
	if code, msg := queryError(body); status != http.StatusForbidden || code != "InvalidClientTokenId" || msg != "The security token included in the request is invalid." {
		t.Fatalf("GetCallerIdentity without the session token: %d %s: %s", status, code, msg)
	}

	dir.SetClock(func() time.Time { return assumed.Expiration.Add(time.Second) })
	status, body = sts(session, "Action=GetCallerIdentity")
	if code, msg := queryError(body); status != http.StatusForbidden || code != "ExpiredToken" || msg != "The security token included in the request is expired" {
		t.Errorf("STS with an expired session: %d %s: %s", status, code, msg)
	}
	status, body = call("ecr", session, []byte("{}"), map[string]string{
		"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "AmazonEC2ContainerRegistry_V20150921.DescribeRegistry"})
	var je struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}
	json.Unmarshal(body, &je)
	if status != http.StatusBadRequest || je.Type != "ExpiredTokenException" || je.Message != "The security token included in the request is expired" {
		t.Errorf("ECR with an expired session: %d %s", status, body)
	}
}
