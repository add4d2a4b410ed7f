// Package httpfetch brings vulnerability data zips over HTTP(S) for
// package vulndb, which speaks no HTTP itself.
package httpfetch

import (
	"context"
	"fmt"
	"io"
	"net/http"
)

// MaxSize bounds a download: osv.dev's largest per-ecosystem zip is a few
// hundred megabytes, its zip of every ecosystem about a gigabyte.
const MaxSize = 4 << 30

// Fetcher downloads with its Client (http.DefaultClient when nil), so
// proxies come from the environment as usual (HTTPS_PROXY).
type Fetcher struct {
	Client *http.Client
}

// Fetch copies the body of a GET of url into w, and fails on any status
// but 200 and on a body larger than MaxSize.
func (f Fetcher) Fetch(ctx context.Context, url string, w io.Writer) error {
	client := f.Client
	if client == nil {
		client = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET answered %s", resp.Status)
	}
	n, err := io.Copy(w, io.LimitReader(resp.Body, MaxSize+1))
	if err != nil {
		return fmt.Errorf("download: %w", err)
	}
	if n > MaxSize {
		return fmt.Errorf("download: larger than %d bytes", int64(MaxSize))
	}
	if resp.ContentLength >= 0 && n != resp.ContentLength {
		return fmt.Errorf("download: %d bytes of %d", n, resp.ContentLength)
	}
	return nil
}
