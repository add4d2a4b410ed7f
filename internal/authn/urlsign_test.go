package authn

import (
	"errors"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestSealOpen(t *testing.T) {
	root := RootCredentials{Account: "123456789012", AccessKeyID: "AKIATESTKEY000000001", SecretAccessKey: "secretsecretsecretsecret"}
	tokens, err := NewTokens([]byte(strings.Repeat("k", 32)), NewKeys(root))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	tokens.now = func() time.Time { return now }
	payload := `{"r":"app","d":"sha256:abc"}`
	signed := tokens.SignURL(payload, now.Add(time.Hour))
	if url.PathEscape(signed) != signed {
		t.Errorf("signed URL token %q needs escaping in a path", signed)
	}
	if got, err := tokens.VerifyURL(signed); err != nil || got != payload {
		t.Fatalf("VerifyURL = %q, %v; want %q", got, err, payload)
	}

	other, _ := NewTokens([]byte(strings.Repeat("x", 32)), NewKeys(root))
	password, _ := tokens.Issue(&Principal{Account: root.Account, AccessKeyID: root.AccessKeyID}, "us-east-1")
	for name, bad := range map[string]string{
		"flipped payload": signed[:3] + string('A'+'B'-rune(signed[3])) + signed[4:],
		"truncated":       signed[:len(signed)-1],
		"extended":        signed + "A",
		"empty":           "",
		"no dots":         "abc",
		"other key":       other.SignURL(payload, now.Add(time.Hour)),
		"other purpose":   tokens.Seal(PurposeNextToken, payload, now.Add(time.Hour)),
		"login password":  password,
		"later expiry":    strings.Replace(signed, "."+itoa(now.Add(time.Hour).Unix())+".", "."+itoa(now.Add(48*time.Hour).Unix())+".", 1),
	} {
		if got, err := tokens.VerifyURL(bad); !errors.Is(err, ErrSignatureInvalid) {
			t.Errorf("%s: VerifyURL = %q, %v; want ErrSignatureInvalid", name, got, err)
		}
	}
	if _, err := tokens.Open(PurposeNextToken, signed); !errors.Is(err, ErrSignatureInvalid) {
		t.Errorf("a URL token opened as a next token: %v", err)
	}

	now = now.Add(time.Hour)
	if _, err := tokens.VerifyURL(signed); !errors.Is(err, ErrSignatureExpired) {
		t.Errorf("at its expiry: %v, want ErrSignatureExpired", err)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
