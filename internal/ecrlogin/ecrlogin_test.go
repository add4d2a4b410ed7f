package ecrlogin

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

type fakeECR struct {
	gotIDs []string
	out    *ecr.GetAuthorizationTokenOutput
	err    error
}

func (f *fakeECR) GetAuthorizationToken(_ context.Context, in *ecr.GetAuthorizationTokenInput, _ ...func(*ecr.Options)) (*ecr.GetAuthorizationTokenOutput, error) {
	f.gotIDs = in.RegistryIds
	return f.out, f.err
}

type fakeSTS struct {
	calls int
	err   error
}

func (f *fakeSTS) GetCallerIdentity(context.Context, *sts.GetCallerIdentityInput, ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error) {
	f.calls++
	if f.err != nil {
		return nil, f.err
	}
	return &sts.GetCallerIdentityOutput{Account: aws.String("111122223333"), Arn: aws.String("arn:aws:iam::111122223333:user/dev")}, nil
}

func tokenOut(token, endpoint string, exp time.Time) *ecr.GetAuthorizationTokenOutput {
	return &ecr.GetAuthorizationTokenOutput{AuthorizationData: []ecrtypes.AuthorizationData{{
		AuthorizationToken: aws.String(token), ProxyEndpoint: aws.String(endpoint), ExpiresAt: aws.Time(exp),
	}}}
}

func TestFetch(t *testing.T) {
	exp := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	good := base64.StdEncoding.EncodeToString([]byte("AWS:sekrit"))
	tests := []struct {
		name       string
		registryID string
		ecr        *fakeECR
		sts        *fakeSTS
		wantIDs    []string
		wantSTS    int
		wantHost   string
		wantErr    string
	}{
		{name: "account from STS", ecr: &fakeECR{out: tokenOut(good, "https://111122223333.dkr.ecr.eu-west-1.amazonaws.com", exp)},
			sts: &fakeSTS{}, wantIDs: []string{"111122223333"}, wantSTS: 1, wantHost: "111122223333.dkr.ecr.eu-west-1.amazonaws.com"},
		{name: "given registry skips STS", registryID: "444455556666", ecr: &fakeECR{out: tokenOut(good, "http://127.0.0.1:5000", exp)},
			sts: &fakeSTS{}, wantIDs: []string{"444455556666"}, wantHost: "127.0.0.1:5000"},
		{name: "expired SSO session", ecr: &fakeECR{}, sts: &fakeSTS{err: &smithy.GenericAPIError{Code: "ExpiredToken", Message: "The security token included in the request is expired"}},
			wantSTS: 1, wantErr: "aws sso login"},
		{name: "denied", registryID: "1", ecr: &fakeECR{err: errors.New("AccessDeniedException")}, sts: &fakeSTS{},
			wantIDs: []string{"1"}, wantErr: "getting a login token for registry 1"},
		{name: "bad token", registryID: "1", ecr: &fakeECR{out: tokenOut("!!", "http://h", exp)}, sts: &fakeSTS{},
			wantIDs: []string{"1"}, wantErr: "not base64"},
		{name: "empty", registryID: "1", ecr: &fakeECR{out: &ecr.GetAuthorizationTokenOutput{}}, sts: &fakeSTS{},
			wantIDs: []string{"1"}, wantErr: "no authorization data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := Fetch(context.Background(), tt.ecr, tt.sts, tt.registryID)
			if tt.sts.calls != tt.wantSTS {
				t.Errorf("STS calls %d, want %d", tt.sts.calls, tt.wantSTS)
			}
			if strings.Join(tt.ecr.gotIDs, ",") != strings.Join(tt.wantIDs, ",") {
				t.Errorf("registryIds %v, want %v", tt.ecr.gotIDs, tt.wantIDs)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to mention %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if l.Host != tt.wantHost || l.Username != "AWS" || l.Password != "sekrit" || !l.ExpiresAt.Equal(exp) {
				t.Errorf("login = %+v", l)
			}
		})
	}
}
