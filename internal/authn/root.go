package authn

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sync"
)

// RootCredentials are the long-term keys of an account's root identity.
type RootCredentials struct {
	Account         string `json:"account"`
	AccessKeyID     string `json:"accessKeyId"`
	SecretAccessKey string `json:"secretAccessKey"`
}

var (
	accessKeyRE = regexp.MustCompile(`^[A-Z0-9]{16,128}$`)
	secretRE    = regexp.MustCompile(`^[A-Za-z0-9/+=]{16,128}$`)
)

// Validate says what is wrong with a key pair.
func (c RootCredentials) Validate() error {
	if !accessKeyRE.MatchString(c.AccessKeyID) {
		return fmt.Errorf("access key id %q: use 16 to 128 uppercase letters and digits, like AKIA…", c.AccessKeyID)
	}
	if !secretRE.MatchString(c.SecretAccessKey) {
		return errors.New("secret access key: use 16 to 128 characters of letters, digits, '/', '+' and '='")
	}
	return nil
}

// NewRootCredentials makes a random key pair in AWS's shapes: a 20-character
// AKIA… id and a 40-character secret.
func NewRootCredentials(account string) RootCredentials {
	const upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	const secretChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	id := []byte("AKIA")
	for _, b := range randomBytes(16) {
		id = append(id, upper[int(b)%len(upper)])
	}
	var secret []byte
	for _, b := range randomBytes(40) {
		secret = append(secret, secretChars[int(b)%len(secretChars)])
	}
	return RootCredentials{Account: account, AccessKeyID: string(id), SecretAccessKey: string(secret)}
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return b
}

// LoadOrCreateRoot returns the root credentials stored at path, creating
// them (owner-only) on first use. The bool reports whether they were new.
func LoadOrCreateRoot(path, account string) (RootCredentials, bool, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		var c RootCredentials
		if err := json.Unmarshal(b, &c); err != nil {
			return c, false, fmt.Errorf("read %s: %w", filepath.Base(path), err)
		}
		if err := c.Validate(); err != nil {
			return c, false, fmt.Errorf("read %s: %w", filepath.Base(path), err)
		}
		return c, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return RootCredentials{}, false, err
	}
	c := NewRootCredentials(account)
	b, _ = json.MarshalIndent(c, "", "  ")
	if err := writeFileAtomic(path, append(b, '\n'), 0o600); err != nil {
		return RootCredentials{}, false, err
	}
	return c, true, nil
}

// writeFileAtomic writes through a temporary file and a rename, so a crash
// never leaves a half-written secret.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// Keys is a Directory of root identities.
type Keys struct {
	mu   sync.RWMutex
	keys map[string]RootCredentials
}

// NewKeys returns a Directory holding the given root credentials.
func NewKeys(creds ...RootCredentials) *Keys {
	k := &Keys{keys: map[string]RootCredentials{}}
	for _, c := range creds {
		k.keys[c.AccessKeyID] = c
	}
	return k
}

// Lookup implements Directory.
func (k *Keys) Lookup(_ context.Context, accessKeyID string) (*Principal, string, error) {
	k.mu.RLock()
	c, ok := k.keys[accessKeyID]
	k.mu.RUnlock()
	if !ok {
		return nil, "", ErrUnknownAccessKey
	}
	return &Principal{Account: c.Account, ARN: RootARN(c.Account), UserID: c.Account, AccessKeyID: c.AccessKeyID}, c.SecretAccessKey, nil
}
