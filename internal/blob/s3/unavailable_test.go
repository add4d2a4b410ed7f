package s3_test

import (
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/berth-registry/berth/internal/blob/s3"
)

func isUnavailable(err error) bool {
	var u interface{ Unavailable() bool }
	return errors.As(err, &u) && u.Unavailable()
}

// TestUnavailable: a server that cannot be reached, or answers 5xx, is an
// outage the front doors answer 503 for; a refusal of the request is not.
func TestUnavailable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer failing.Close()
	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusForbidden)
	}))
	defer refusing.Close()
	for _, tc := range []struct {
		name, endpoint string
		want           bool
	}{
		{"nothing listens", closed, true},
		{"the server answers 503", failing.URL, true},
		{"the server refuses the request", refusing.URL, false},
	} {
		_, err := s3.New(t.Context(), s3.Config{Bucket: "b", Endpoint: tc.endpoint, Region: "us-east-1", PathStyle: true,
			AccessKeyID: "k", SecretAccessKey: "s"})
		if err == nil {
			t.Fatalf("%s: New succeeded", tc.name)
		}
		if got := isUnavailable(err); got != tc.want {
			t.Errorf("%s: unavailable = %v, want %v: %v", tc.name, got, tc.want, err)
		}
	}
}
