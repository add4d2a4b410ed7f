package credhelper

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/berth-registry/berth/internal/ecrlogin"
)

// notFound is the message docker's helper client recognises as "no
// credential", after which it goes on anonymously.
const notFound = "credentials not found in native keychain"

// Margin is how long before expiry a cached login is replaced, so that a
// push that starts on a cached token does not outlive it.
const Margin = 15 * time.Minute

// Fetcher logs in to host as e says.
type Fetcher func(ctx context.Context, host string, e Entry) (*ecrlogin.Login, error)

// Helper answers the credential helper protocol.
type Helper struct {
	Config *Config
	Cache  Cache
	Fetch  Fetcher
	// Getenv reads the environment that is part of an identity (which
	// profile or keys the SDK's default chain will use).
	Getenv func(string) string
	Now    func() time.Time
}

// Run performs one action with the protocol's streams and returns the
// process's exit code. Protocol answers and the short error docker shows go
// to stdout; the explanation for a person goes to stderr, which docker
// passes through to the terminal.
func (h *Helper) Run(ctx context.Context, action string, stdin io.Reader, stdout, stderr io.Writer) int {
	fail := func(err error) int {
		fmt.Fprintln(stdout, err)
		fmt.Fprintln(stderr, "docker-credential-berth:", err)
		return 1
	}
	switch action {
	case "get":
		server, err := readLine(stdin)
		if err != nil {
			return fail(err)
		}
		host, e, ok := h.Config.Lookup(server)
		if !ok {
			fmt.Fprintln(stdout, notFound)
			fmt.Fprintf(stderr, "docker-credential-berth: registry host %s is not configured in %s; add it under \"registries\" with the AWS profile to use\n", host, h.Config.Path())
			return 1
		}
		c, err := h.get(ctx, host, e)
		if err != nil {
			return fail(err)
		}
		json.NewEncoder(stdout).Encode(struct {
			ServerURL, Username, Secret string
		}{server, c.Username, c.Secret})
		return 0
	case "store":
		// Docker calls store after a docker login; the login would be
		// out of date in 12 hours, and the profile is the source of truth.
		io.Copy(io.Discard, stdin)
		fmt.Fprintln(stderr, "docker-credential-berth: store ignored: logins are made from the AWS profile in", h.Config.Path())
		return 0
	case "erase":
		server, err := readLine(stdin)
		if err != nil {
			return fail(err)
		}
		host, _, _ := h.Config.Lookup(server)
		if _, err := h.Cache.Drop(host); err != nil {
			return fail(err)
		}
		return 0
	case "list":
		m := map[string]string{}
		for _, host := range h.Config.Hosts() {
			m[host] = "AWS"
		}
		json.NewEncoder(stdout).Encode(m)
		return 0
	case "version":
		fmt.Fprintln(stdout, "docker-credential-berth (Berth)")
		return 0
	}
	return fail(fmt.Errorf("unknown action %q: want get, store, erase or list", action))
}

func (h *Helper) get(ctx context.Context, host string, e Entry) (*Cached, error) {
	id := h.identity(e)
	now := h.Now()
	if c, ok := h.Cache.Get(host, id, now, Margin); ok {
		return c, nil
	}
	l, err := h.Fetch(ctx, host, e)
	if err != nil {
		return nil, fmt.Errorf("logging in to %s with %s: %w", host, describe(e), err)
	}
	c := &Cached{Host: host, Identity: id, Username: l.Username, Secret: l.Password, ExpiresAt: l.ExpiresAt}
	// A cache that cannot be written costs a login per call, not a failure.
	_ = h.Cache.Put(c)
	return c, nil
}

// identity is what decides which AWS principal a login is made as: the
// entry, and the environment the SDK's chain reads.
func (h *Helper) identity(e Entry) string {
	b, _ := json.Marshal(struct {
		Entry
		Env []string
	}{e, []string{h.Getenv("AWS_PROFILE"), h.Getenv("AWS_ACCESS_KEY_ID"), h.Getenv("AWS_ENDPOINT_URL"), h.Getenv("AWS_REGION")}})
	return string(b)
}

func describe(e Entry) string {
	if e.Profile == "" {
		return "the default AWS credentials"
	}
	return fmt.Sprintf("AWS profile %q", e.Profile)
}

func readLine(r io.Reader) (string, error) {
	s, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", fmt.Errorf("reading the server URL from stdin: %w", err)
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return "", fmt.Errorf("no server URL on stdin")
	}
	return s, nil
}
