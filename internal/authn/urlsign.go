package authn

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"
)

var (
	// ErrSignatureInvalid means a signed value was altered, truncated, or
	// signed by another server or for another purpose.
	ErrSignatureInvalid = errors.New("authn: signature does not match")
	// ErrSignatureExpired means a genuine signed value is past its expiry.
	ErrSignatureExpired = errors.New("authn: signed value expired")
)

// Purposes keep a value signed for one use from being accepted for another
// (a pagination token as a download URL, say).
const (
	PurposeURL       = "url"
	PurposeNextToken = "next-token"
)

// Seal signs payload for purpose, valid until exp, with a key derived from
// the login-token key: the result is opaque to clients, cannot be altered,
// and is accepted by every node that shares the key. The payload is
// readable by whoever holds the result; it must hold nothing secret.
func (t *Tokens) Seal(purpose, payload string, exp time.Time) string {
	body := base64.RawURLEncoding.EncodeToString([]byte(payload)) + "." + strconv.FormatInt(exp.Unix(), 10)
	return body + "." + base64.RawURLEncoding.EncodeToString(t.sealMAC(purpose, body))
}

// Open checks a value made by Seal for the same purpose and returns its
// payload.
func (t *Tokens) Open(purpose, sealed string) (string, error) {
	i := strings.LastIndexByte(sealed, '.')
	if i < 0 {
		return "", ErrSignatureInvalid
	}
	body, sigText := sealed[:i], sealed[i+1:]
	sig, err := base64.RawURLEncoding.DecodeString(sigText)
	if err != nil || !hmac.Equal(sig, t.sealMAC(purpose, body)) {
		return "", ErrSignatureInvalid
	}
	payloadText, expText, ok := strings.Cut(body, ".")
	if !ok {
		return "", ErrSignatureInvalid
	}
	exp, err := strconv.ParseInt(expText, 10, 64)
	if err != nil {
		return "", ErrSignatureInvalid
	}
	payload, err := base64.RawURLEncoding.DecodeString(payloadText)
	if err != nil {
		return "", ErrSignatureInvalid
	}
	if !t.now().Before(time.Unix(exp, 0)) {
		return "", ErrSignatureExpired
	}
	return string(payload), nil
}

// SignURL signs the payload of a URL that grants access on its own (a
// layer download link), valid until exp. The result is URL-safe.
func (t *Tokens) SignURL(payload string, exp time.Time) string {
	return t.Seal(PurposeURL, payload, exp)
}

// VerifyURL checks a value made by SignURL and returns its payload.
func (t *Tokens) VerifyURL(token string) (string, error) {
	return t.Open(PurposeURL, token)
}

// sealMAC uses a key derived from the login-token key, so that nothing
// sealed can ever pass as a login password, or the reverse.
func (t *Tokens) sealMAC(purpose, body string) []byte {
	k := hmac.New(sha256.New, t.key)
	k.Write([]byte("berth sealed value v1\x00" + purpose))
	m := hmac.New(sha256.New, k.Sum(nil))
	m.Write([]byte(body))
	return m.Sum(nil)
}
