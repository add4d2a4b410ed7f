package secrets

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
)

// Values are encrypted at rest with AES-256-GCM under a key every node
// derives alike from the deployment's login-token key (--token-key): HKDF
// over SHA-256 with a label of its own, so that the key that signs login
// tokens is never used to encrypt, and no new flag is needed. KMS keys
// named by KmsKeyId are recorded, not used.

// keyLabel is HKDF's info: what the derived key is for. A new label (and
// format byte) would be a new key.
const keyLabel = "berth secretsmanager secret values v1"

// formatV1 starts every sealed value: the format, then the 12-byte nonce,
// then GCM's ciphertext and tag.
const formatV1 = 1

// The kinds of value, the first byte of the plaintext.
const (
	kindString = 's'
	kindBinary = 'b'
)

// sealer encrypts and decrypts values.
type sealer struct{ aead cipher.AEAD }

// newSealer derives the value key from the token key material.
func newSealer(tokenKey []byte) (*sealer, error) {
	if len(tokenKey) < 32 {
		return nil, fmt.Errorf("secrets: the token key has %d bytes; at least 32 are needed", len(tokenKey))
	}
	key, err := hkdf.Key(sha256.New, tokenKey, nil, keyLabel, 32)
	if err != nil {
		return nil, fmt.Errorf("secrets: derive the value key: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("secrets: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secrets: %w", err)
	}
	return &sealer{aead: aead}, nil
}

// aad binds a sealed value to its secret and version, so that a value
// copied to another row in the database does not decrypt there.
func aad(arn, versionID string) []byte {
	return []byte(arn + "\x00" + versionID)
}

// seal encrypts v for version versionID of the secret arn.
func (s *sealer) seal(arn, versionID string, v *Value) []byte {
	plain := make([]byte, 0, 1+len(v.String)+len(v.Binary))
	if v.Binary != nil {
		plain = append(append(plain, kindBinary), v.Binary...)
	} else {
		plain = append(append(plain, kindString), v.String...)
	}
	out := make([]byte, 1+s.aead.NonceSize(), 1+s.aead.NonceSize()+len(plain)+s.aead.Overhead())
	out[0] = formatV1
	rand.Read(out[1:])
	return s.aead.Seal(out, out[1:], plain, aad(arn, versionID))
}

var errSealed = errors.New("the stored value cannot be decrypted with this deployment's key")

// open decrypts what seal made for the same secret and version.
func (s *sealer) open(arn, versionID string, sealed []byte) (*Value, error) {
	n := s.aead.NonceSize()
	if len(sealed) < 1+n || sealed[0] != formatV1 {
		return nil, errSealed
	}
	plain, err := s.aead.Open(nil, sealed[1:1+n], sealed[1+n:], aad(arn, versionID))
	if err != nil || len(plain) == 0 {
		return nil, errSealed
	}
	v := &Value{VersionID: versionID}
	switch plain[0] {
	case kindString:
		v.String = string(plain[1:])
	case kindBinary:
		v.Binary = plain[1:]
	default:
		return nil, errSealed
	}
	return v, nil
}
