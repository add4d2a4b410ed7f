package s3_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/berth-registry/berth/internal/blob/s3"
)

// TestWriteRetriedAfterDirectoryRace: a PutObject answered 409
// ExistingObjectIsDirectory (versitygw's answer when the write races with
// the removal of an emptied parent directory) is sent again, and the
// append succeeds with the second answer.
func TestWriteRetriedAfterDirectoryRace(t *testing.T) {
	var mu sync.Mutex
	puts := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		switch r.Method {
		case http.MethodHead: // HeadBucket
			return
		case http.MethodGet: // ListObjectsV2: nothing staged yet
			w.Header().Set("Content-Type", "application/xml")
			io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>b</Name><KeyCount>0</KeyCount><IsTruncated>false</IsTruncated></ListBucketResult>`)
			return
		case http.MethodPut:
			mu.Lock()
			puts[r.URL.Path]++
			n := puts[r.URL.Path]
			mu.Unlock()
			if n == 1 {
				w.Header().Set("Content-Type", "application/xml")
				w.WriteHeader(http.StatusConflict)
				io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>ExistingObjectIsDirectory</Code><Message>Existing Object is a directory.</Message></Error>`)
				return
			}
			if !bytes.Equal(body, []byte("hello")) && len(body) != 0 {
				t.Errorf("PUT %s: body %q on the retry", r.URL.Path, body)
			}
			w.Header().Set("ETag", `"x"`)
			return
		}
		t.Errorf("unexpected %s %s", r.Method, r.URL)
		w.WriteHeader(http.StatusNotImplemented)
	}))
	defer srv.Close()
	st, err := s3.New(t.Context(), s3.Config{Bucket: "b", Endpoint: srv.URL, Region: "us-east-1", PathStyle: true,
		AccessKeyID: "k", SecretAccessKey: "s"})
	if err != nil {
		t.Fatal(err)
	}
	n, err := st.Append(t.Context(), "0123456789abcdef0123456789abcdef", 0, strings.NewReader("hello"))
	if err != nil || n != 5 {
		t.Fatalf("Append: %d, %v", n, err)
	}
	mu.Lock()
	defer mu.Unlock()
	for path, n := range puts {
		if n != 2 {
			t.Errorf("PUT %s sent %d times, want 2 (refused, then repeated)", path, n)
		}
	}
	if len(puts) == 0 {
		t.Error("no PutObject reached the server")
	}
}
