package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wisp-dev/wisp/internal/testguest"
)

// selfSigned writes a certificate for 127.0.0.1 and *.<testDomain> and
// its key, and returns their paths and a client trusting it.
func selfSigned(t *testing.T) (certPath, keyPath string, client *http.Client) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "wisp test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"*." + testDomain},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certPath, keyPath = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return certPath, keyPath, &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
}

func getWith(t *testing.T, c *http.Client, url, host string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestE2EUpTLS: wisp up --tls-cert/--tls-key serves HTTPS only.
func TestE2EUpTLS(t *testing.T) {
	requireTool(t, "clang-19")
	cert, key, client := selfSigned(t)
	dir := t.TempDir()
	wasm := filepath.Join(dir, "hello.wasm")
	copyFile(t, testguest.C(t, filepath.Join("..", "..", "testdata", "guests", "wagi", "hello.c")), wasm)
	s := up(t, dir, "-f", wasm, "--tls-cert", cert, "--tls-key", key)
	if !strings.HasPrefix(s.URL, "https://") {
		t.Fatalf("serving %s, want https", s.URL)
	}
	if code, body := getWith(t, client, s.URL+"/", ""); code != 200 || body != "hello from wagi\n" {
		t.Fatalf("GET over TLS = %d %q", code, body)
	}
	plain := "http://" + strings.TrimPrefix(s.URL, "https://") + "/"
	if code, _ := getWith(t, http.DefaultClient, plain, ""); code != http.StatusBadRequest {
		t.Errorf("plain HTTP to the TLS port = %d, want 400", code)
	}
	if out, err := wisp(t, dir, "up", "-f", wasm, "--tls-cert", cert); err == nil || !strings.Contains(out, "--tls-cert and --tls-key go together") {
		t.Errorf("--tls-cert alone: %v\n%s", err, out)
	}
	garbage := filepath.Join(t.TempDir(), "garbage.pem")
	if err := os.WriteFile(garbage, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := wisp(t, dir, "up", "-f", wasm, "--tls-cert", garbage, "--tls-key", key); err == nil || !strings.Contains(out, "TLS certificate:") {
		t.Errorf("a garbage certificate: %v\n%s", err, out)
	}
}

// TestServerTLS: wisp server --tls-cert/--tls-key serves apps and the admin
// API over HTTPS; the CLI (trusting the certificate through
// SSL_CERT_FILE, as any Go program does) logs in and deploys over it.
func TestServerTLS(t *testing.T) {
	requireTool(t, "clang-19")
	cert, key, client := selfSigned(t)
	data, cfg := t.TempDir(), t.TempDir()
	cmd := startWispServer(t, "server", "--data-dir", data, "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0",
		"--domain", testDomain, "--tls-cert", cert, "--tls-key", key)
	appURL := strings.Replace(cmd.waitFor(t, "Serving apps on https://"), "http://", "https://", 1)
	adminURL := strings.Replace(cmd.waitFor(t, "Admin API on https://"), "http://", "https://", 1)
	token, err := os.ReadFile(filepath.Join(data, "admin-token"))
	if err != nil {
		t.Fatal(err)
	}
	env := []string{"WISP_CONFIG_DIR=" + cfg, "SSL_CERT_FILE=" + cert}
	if out, err := runWisp(t, env, string(token), "login", adminURL, "--token-stdin"); err != nil {
		t.Fatalf("login: %v\n%s", err, out)
	}
	out, err := runWisp(t, env, "", "deploy", "-f", wagiApp(t, "hello", "", nil), "--name", "hi")
	if err != nil || !strings.Contains(out, "https://hi."+testDomain+":") {
		t.Fatalf("deploy: %v\n%s", err, out)
	}
	if code, body := getWith(t, client, appURL+"/", "hi."+testDomain); code != 200 || body != "hello from wagi\n" {
		t.Errorf("app over TLS = %d %q", code, body)
	}
	// Without the certificate trusted, the CLI refuses the admin API.
	if out, err := runWisp(t, []string{"WISP_CONFIG_DIR=" + cfg, "SSL_CERT_FILE=/dev/null"}, "", "apps", "list"); err == nil || !strings.Contains(out, "certificate") {
		t.Errorf("apps list with an untrusted certificate: %v\n%s", err, out)
	}
}
