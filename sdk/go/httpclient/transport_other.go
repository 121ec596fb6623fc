//go:build !wasip1

package httpclient

import (
	"errors"
	"net/http"
)

// RoundTrip fails: outbound requests go through the host of a wasip1
// component.
func (t *Transport) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, errors.New("httpclient: only available in a GOOS=wasip1 component")
}
