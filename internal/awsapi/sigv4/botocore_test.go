package sigv4

import (
	"encoding/json"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// botocoreRequest is one request signed by testdata/botocore_sign.py.
type botocoreRequest struct {
	Name         string            `json:"name"`
	Method       string            `json:"method"`
	URL          string            `json:"url"`
	Headers      map[string]string `json:"headers"`
	Body         string            `json:"body"`
	SessionToken string            `json:"session_token"`
}

// TestVerifyBotocoreSigned verifies requests signed by botocore, the signer
// behind the AWS CLI and boto3, which unlike aws-sdk-go-v2 sends no
// X-Amz-Content-Sha256 for JSON services.
func TestVerifyBotocoreSigned(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not found; skipping the botocore interoperability test")
	}
	if out, err := exec.Command(python, "-c", "import botocore").CombinedOutput(); err != nil {
		t.Skipf("botocore not importable by python3; skipping the botocore interoperability test: %v: %s", err, out)
	}

	srv := newServer(t)
	out, err := exec.Command(python, "testdata/botocore_sign.py", srv.URL).Output()
	if err != nil {
		t.Fatalf("botocore_sign.py: %v", err)
	}
	var reqs []botocoreRequest
	if err := json.Unmarshal(out, &reqs); err != nil {
		t.Fatalf("parsing botocore_sign.py output: %v\n%s", err, out)
	}
	if len(reqs) == 0 {
		t.Fatal("botocore_sign.py signed no requests")
	}

	// botocore signs with the real clock.
	v := &Verifier{
		Credentials: StaticCredentials{"AKIDBOTOCORE": "botocore/Secret+Key"},
		Service:     "ecr",
		Region:      "us-east-1",
	}
	build := func(t *testing.T, br botocoreRequest, body string) *http.Request {
		req, err := http.NewRequest(br.Method, br.URL, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		for k, val := range br.Headers {
			req.Header.Set(k, val)
		}
		return req
	}
	for _, br := range reqs {
		t.Run(br.Name, func(t *testing.T) {
			res, err := srv.verify(t, v, build(t, br, br.Body))
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if res.AccessKeyID != "AKIDBOTOCORE" || res.Service != "ecr" || res.Region != "us-east-1" ||
				res.SessionToken != br.SessionToken || time.Since(res.SignedAt) > time.Minute {
				t.Errorf("Result = %+v", res)
			}

			if br.Body == "" {
				return
			}
			// Without X-Amz-Content-Sha256 the body is covered only through
			// the canonical request's payload hash: a changed body must fail.
			tampered := strings.Replace(br.Body, "{", "[", 1)
			if _, err := srv.verify(t, v, build(t, br, tampered)); codeOf(err) != CodeInvalidSignature {
				t.Errorf("tampered body: err = %v, want %s", err, CodeInvalidSignature)
			}
		})
	}
}
