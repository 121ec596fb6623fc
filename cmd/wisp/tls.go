package main

import (
	"crypto/tls"
	"fmt"
	"os"

	"github.com/spf13/pflag"
)

// tlsFlags are Spin's --tls-cert and --tls-key (defaults from
// SPIN_TLS_CERT and SPIN_TLS_KEY, as in spin up).
type tlsFlags struct{ cert, key string }

func (t *tlsFlags) register(f *pflag.FlagSet, what string) {
	f.StringVar(&t.cert, "tls-cert", os.Getenv("SPIN_TLS_CERT"), "PEM certificate (chain) to serve "+what+" over HTTPS; needs --tls-key [env: SPIN_TLS_CERT]")
	f.StringVar(&t.key, "tls-key", os.Getenv("SPIN_TLS_KEY"), "PEM private key of --tls-cert [env: SPIN_TLS_KEY]")
}

// config loads the key pair; nil without one (plain HTTP).
func (t tlsFlags) config() (*tls.Config, error) {
	if t.cert == "" && t.key == "" {
		return nil, nil
	}
	if t.cert == "" || t.key == "" {
		return nil, usagef("--tls-cert and --tls-key go together")
	}
	pair, err := tls.LoadX509KeyPair(t.cert, t.key)
	if err != nil {
		return nil, fmt.Errorf("TLS certificate: %w", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}, nil
}
