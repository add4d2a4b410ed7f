package ssoweb

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/berth-registry/berth/internal/meta"
	"github.com/berth-registry/berth/internal/sso"
)

// fakeDomain has one pending code, ABCD-EFGH, and one user, alice, whose
// password is "correct horse".
type fakeDomain struct{ approved []string }

func (d *fakeDomain) PendingDevice(_ context.Context, code string) (*meta.SSODeviceAuthorization, error) {
	if code != "ABCD-EFGH" || len(d.approved) > 0 {
		return nil, &sso.Error{Kind: sso.ErrNotFound, Message: "The code " + code + " is not valid or has expired. Start the sign-in again."}
	}
	return &meta.SSODeviceAuthorization{UserCode: code}, nil
}

func (d *fakeDomain) Authenticate(_ context.Context, user, password string) (*meta.SSOUser, error) {
	if user != "alice" || password != "correct horse" {
		return nil, &sso.Error{Kind: sso.ErrAccessDenied, Message: "Incorrect user name or password."}
	}
	return &meta.SSOUser{UserName: "alice"}, nil
}

func (d *fakeDomain) ApproveDevice(_ context.Context, code, user string) error {
	d.approved = append(d.approved, code+" "+user)
	return nil
}

func (d *fakeDomain) StartURL() string { return "https://berth.example/start" }

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func TestDevicePage(t *testing.T) {
	for _, tc := range []struct {
		name           string
		code, user, pw string
		noCookie       bool
		forgeCSRF      bool
		status         int
		want           string
		approved       bool
	}{
		{name: "approve", code: "abcd-efgh", user: "alice", pw: "correct horse", status: 200, want: `id="approved"`, approved: true},
		{name: "wrong password", code: "ABCD-EFGH", user: "alice", pw: "wrong", status: 401, want: "Incorrect user name or password."},
		{name: "unknown user, same words", code: "ABCD-EFGH", user: "mallory", pw: "correct horse", status: 401, want: "Incorrect user name or password."},
		{name: "unknown code", code: "ZZZZ-ZZZZ", user: "alice", pw: "correct horse", status: 400, want: "is not valid or has expired"},
		{name: "missing password", code: "ABCD-EFGH", user: "alice", status: 400, want: "Enter the code, your user name and your password."},
		{name: "no CSRF cookie", code: "ABCD-EFGH", user: "alice", pw: "correct horse", noCookie: true, status: 403, want: "This form has expired."},
		{name: "forged CSRF token", code: "ABCD-EFGH", user: "alice", pw: "correct horse", forgeCSRF: true, status: 403, want: "This form has expired."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := &fakeDomain{}
			mux := http.NewServeMux()
			New(d, []byte("key"), slog.New(slog.DiscardHandler)).Register(mux)
			srv := httptest.NewServer(mux)
			defer srv.Close()
			jar, _ := cookiejar.New(nil)
			client := &http.Client{Jar: jar}

			resp, err := client.Get(srv.URL + "/device?user_code=abcd-efgh")
			if err != nil {
				t.Fatal(err)
			}
			page, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if !strings.Contains(string(page), `value="ABCD-EFGH"`) {
				t.Fatalf("the code from verificationUriComplete is not prefilled:\n%s", page)
			}
			m := csrfRE.FindStringSubmatch(string(page))
			if m == nil {
				t.Fatal("no CSRF token in the form")
			}
			token := m[1]
			if tc.forgeCSRF {
				token = "forged"
			}
			if tc.noCookie {
				client.Jar, _ = cookiejar.New(nil)
			}
			resp, err = client.PostForm(srv.URL+"/device", url.Values{"csrf": {token}, "user_code": {tc.code}, "username": {tc.user}, "password": {tc.pw}})
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status || !strings.Contains(string(body), tc.want) {
				t.Errorf("POST: %d, want %d with %q:\n%s", resp.StatusCode, tc.status, tc.want, body)
			}
			if got := len(d.approved) > 0; got != tc.approved {
				t.Errorf("approved %v, want %v", d.approved, tc.approved)
			}
			if strings.Contains(string(body), tc.pw) && tc.pw != "" {
				t.Error("the page echoes the password")
			}
			if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
				t.Errorf("Content-Security-Policy %q", csp)
			}
		})
	}
}

func TestStartPage(t *testing.T) {
	mux := http.NewServeMux()
	New(&fakeDomain{}, []byte("key"), nil).Register(mux)
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, httptest.NewRequest("GET", "/start", nil))
	if w.Code != 200 || !strings.Contains(w.Body.String(), "sso_start_url = https://berth.example/start") {
		t.Errorf("GET /start: %d\n%s", w.Code, w.Body)
	}
}
