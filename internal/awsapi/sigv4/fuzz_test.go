package sigv4

import (
	"errors"
	"net/http"
	"net/url"
	"testing"
)

// FuzzVerify feeds arbitrary Authorization headers, query strings, request
// paths and dates to Verify: it must never panic, and every rejection must
// be an *Error a front door can send as is.
func FuzzVerify(f *testing.F) {
	ecr := signedRequest(f, "http://api.ecr.us-east-1.amazonaws.com", ecrCall("GetAuthorizationToken", "{}"), t0)
	f.Add(ecr.Header.Get("Authorization"), "", "/", ecr.Header.Get("X-Amz-Date"), "{}")
	pre := signedRequest(f, "http://example.com", spec{method: "GET", path: "/a b/c", query: "x=1&x=2", presign: true, expires: "60"}, t0)
	f.Add("", pre.URL.RawQuery, pre.URL.EscapedPath(), "", "")
	f.Add("AWS4-HMAC-SHA256 Credential=a/b/c/d/e/f, SignedHeaders=;;, Signature=", "X-Amz-Algorithm=&&=&%zz", "//../%", "20260101T000000Z", "")
	f.Add("AWS4- ,,, =", "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=-1", "/./", "Thu, 01 Jan 2026 00:00:00 GMT", "x")

	v := verifierAt(t0)
	f.Fuzz(func(t *testing.T, authorization, rawQuery, path, date, body string) {
		r := &http.Request{
			Method:     "POST",
			URL:        &url.URL{Path: "/", RawQuery: rawQuery},
			Host:       "api.ecr.us-east-1.amazonaws.com",
			Header:     http.Header{},
			RequestURI: path,
		}
		if authorization != "" {
			r.Header["Authorization"] = []string{authorization}
		}
		if date != "" {
			r.Header["X-Amz-Date"] = []string{date}
		}
		for k, vs := range ecr.Header {
			if _, set := r.Header[k]; !set && k != "Authorization" && k != "X-Amz-Date" {
				r.Header[k] = vs
			}
		}
		res, err := v.Verify(r, []byte(body))
		if err == nil {
			if res == nil {
				t.Fatal("nil Result and nil error")
			}
			return
		}
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("non-*Error rejection: %v", err)
		}
		if e.Code == "" || e.Message == "" || (e.Status != http.StatusBadRequest && e.Status != http.StatusForbidden) {
			t.Fatalf("malformed error: %#v", e)
		}
	})
}
