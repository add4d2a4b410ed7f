package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
)

// TestTLS serves HTTPS from a certificate and key given on the command line.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "berth test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600)

	b := startBerth(t, "", "--tls-cert", certFile, "--tls-key", keyFile)
	if !strings.HasPrefix(b.URL, "https://") {
		t.Fatalf("berth serves %s, want https", b.URL)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}

	// Log in over TLS as `aws ecr get-login-password` does: the SDK
	// trusts the test certificate through client.
	cfg := b.awsConfig(testRegion, testAccessKeyID, testSecretAccessKey)
	cfg.HTTPClient = client
	out, err := ecr.NewFromConfig(cfg).GetAuthorizationToken(withTimeout(t, 30*time.Second), &ecr.GetAuthorizationTokenInput{})
	if err != nil {
		t.Fatalf("GetAuthorizationToken over TLS: %v", err)
	}
	if len(out.AuthorizationData) == 0 {
		t.Fatal("GetAuthorizationToken over TLS returned no authorization data")
	}
	token := aws.ToString(out.AuthorizationData[0].AuthorizationToken)
	if raw, err := base64.StdEncoding.DecodeString(token); err != nil || !strings.HasPrefix(string(raw), "AWS:") {
		t.Fatalf("authorization token %q is not base64 of AWS:<password> (%v)", token, err)
	}
	auth := "Basic " + token

	req, err := http.NewRequest(http.MethodGet, b.URL+"/v2/", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", auth)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Docker-Distribution-API-Version") != "registry/2.0" {
		t.Fatalf("GET /v2/ over TLS: %s %v", resp.Status, resp.Header)
	}
	// Without the login, the challenge names the https realm.
	resp, err = client.Get(b.URL + "/v2/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	wantChallenge := `Basic realm="https://` + b.Host + `/",service="ecr.amazonaws.com"`
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") != wantChallenge {
		t.Errorf("GET /v2/ over TLS without a login: %s, WWW-Authenticate %q; want 401 and %q", resp.Status, resp.Header.Get("WWW-Authenticate"), wantChallenge)
	}
	// Plain HTTP to the TLS port is refused, not served, even with a
	// valid login.
	plain, err := http.NewRequest(http.MethodGet, "http://"+b.Host+"/v2/", nil)
	if err != nil {
		t.Fatal(err)
	}
	plain.Header.Set("Authorization", auth)
	if resp, err := http.DefaultClient.Do(plain); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Fatal("plain HTTP was served on the TLS listener")
		}
	}
}
