package mailbox_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"testing"
	"time"

	"github.com/recoverydesk/recoverydesk/mailbox"
)

func TestSendTLS(t *testing.T) {
	serverTLS, roots := selfSignedTLS(t)
	trusting := func(url string) *mailbox.Sender {
		cfg, err := mailbox.ParseSMTPURL(url)
		if err != nil {
			t.Fatal(err)
		}
		cfg.TLS = &tls.Config{RootCAs: roots}
		return mailbox.NewSender(cfg)
	}
	tests := []struct {
		name     string
		scheme   string
		offerTLS bool
		implicit bool
		wantTLS  bool
	}{
		{"opportunistic without STARTTLS stays plain", "smtp", false, false, false},
		{"opportunistic upgrades when offered", "smtp", true, false, true},
		{"starttls required and offered", "smtp+starttls", true, false, true},
		{"implicit TLS", "smtps", true, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{}
			var cfg *tls.Config
			if tt.offerTLS {
				cfg = serverTLS
			}
			addr := serve(t, rec, cfg, tt.implicit)
			msg := testMessage(t)
			if err := trusting(tt.scheme+"://"+addr).Send(context.Background(), "support@desk.test", []string{"zoe@example.org"}, msg); err != nil {
				t.Fatal(err)
			}
			datas, tlsUsed := rec.received()
			if len(datas) != 1 || string(datas[0]) != string(msg) {
				t.Fatalf("server received %d messages, want exactly the one sent", len(datas))
			}
			if tlsUsed[0] != tt.wantTLS {
				t.Errorf("delivered over TLS = %v, want %v", tlsUsed[0], tt.wantTLS)
			}
		})
	}
}

func TestSendUntrustedCertificate(t *testing.T) {
	serverTLS, _ := selfSignedTLS(t)
	addr := serve(t, &recorder{}, serverTLS, true)
	err := sender(t, "smtps://"+addr).Send(context.Background(), "support@desk.test", []string{"zoe@example.org"}, testMessage(t))
	var unknown x509.UnknownAuthorityError
	if !errors.As(err, &unknown) {
		t.Fatalf("err = %v, want an unknown-authority TLS error", err)
	}
}

// selfSignedTLS returns a server TLS config for 127.0.0.1 and a pool that
// trusts it.
func selfSignedTLS(t *testing.T) (*tls.Config, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "devmail test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:                  true,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}, pool
}
