package wasihttp

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"syscall"

	"github.com/wisp-dev/wisp/internal/component/cabi"
	"github.com/wisp-dev/wisp/internal/component/wit"
	"github.com/wisp-dev/wisp/internal/outbound"
)

// Cases of wasi:http/types' error-code variant, in declaration order (the
// variant's Go representation is cabi.Variant). TestErrorCodeCases checks
// them against the WIT.
const (
	ecDNSTimeout uint32 = iota
	ecDNSError
	ecDestinationNotFound
	ecDestinationUnavailable
	ecDestinationIPProhibited
	ecDestinationIPUnroutable
	ecConnectionRefused
	ecConnectionTerminated
	ecConnectionTimeout
	ecConnectionReadTimeout
	ecConnectionWriteTimeout
	ecConnectionLimitReached
	ecTLSProtocolError
	ecTLSCertificateError
	ecTLSAlertReceived
	ecHTTPRequestDenied
	ecHTTPRequestLengthRequired
	ecHTTPRequestBodySize
	ecHTTPRequestMethodInvalid
	ecHTTPRequestURIInvalid
	ecHTTPRequestURITooLong
	ecHTTPRequestHeaderSectionSize
	ecHTTPRequestHeaderSize
	ecHTTPRequestTrailerSectionSize
	ecHTTPRequestTrailerSize
	ecHTTPResponseIncomplete
	ecHTTPResponseHeaderSectionSize
	ecHTTPResponseHeaderSize
	ecHTTPResponseBodySize
	ecHTTPResponseTrailerSectionSize
	ecHTTPResponseTrailerSize
	ecHTTPResponseTransferCoding
	ecHTTPResponseContentCoding
	ecHTTPResponseTimeout
	ecHTTPUpgradeFailed
	ecHTTPProtocolError
	ecLoopDetected
	ecConfigurationError
	ecInternalError
)

// ErrorCode is a wasi:http error-code as an error, so that it can travel
// through Go code and streams (a body stream failing with one makes the
// guest's io-error answer it from http-error-code).
type ErrorCode struct {
	// Code is the error-code value: Case is one of the variant's cases,
	// Value its payload in cabi's representation.
	Code cabi.Variant
}

func (e *ErrorCode) Error() string {
	name := fmt.Sprintf("error-code case %d", e.Code.Case)
	if t := errorCodeType(); t != nil && int(e.Code.Case) < len(t.Cases) {
		name = t.Cases[e.Code.Case].Name
	}
	switch v := e.Code.Value.(type) {
	case nil:
		return "wasi:http " + name
	case cabi.Option:
		if !v.Some {
			return "wasi:http " + name
		}
		return fmt.Sprintf("wasi:http %s: %v", name, v.Value)
	default:
		return fmt.Sprintf("wasi:http %s: %v", name, v)
	}
}

func errorCode(c uint32, payload any) *ErrorCode {
	return &ErrorCode{Code: cabi.Variant{Case: c, Value: payload}}
}

// internalError is error-code.internal-error(some(msg)).
func internalError(msg string) *ErrorCode { return errorCode(ecInternalError, cabi.Some(msg)) }

func errorCodeType() *cabi.Type {
	i, ok := wit.Builtin().LookupInterface(TypesInterface)
	if !ok {
		return nil
	}
	return i.Types["error-code"]
}

// asErrorCode returns the error-code that err carries or maps to, for
// errors of Go's HTTP client and of request bodies.
func asErrorCode(err error) *ErrorCode {
	var ec *ErrorCode
	if errors.As(err, &ec) {
		return ec
	}
	var maxBytes *http.MaxBytesError
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	var unknownAuth x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invalidCert x509.CertificateInvalidError
	var alert tls.AlertError
	var recordErr tls.RecordHeaderError
	switch {
	case errors.Is(err, outbound.ErrBlocked):
		return errorCode(ecDestinationIPProhibited, nil)
	case errors.Is(err, outbound.ErrConnectionLimit):
		// Spin: connection-timeout when the wait for a slot ran out of
		// connect timeout, connection-limit-reached otherwise.
		var netErr net.Error
		if errors.As(err, &netErr) && netErr.Timeout() {
			return errorCode(ecConnectionTimeout, nil)
		}
		return errorCode(ecConnectionLimitReached, nil)
	case errors.As(err, &maxBytes):
		return errorCode(ecHTTPRequestBodySize, cabi.Some(uint64(maxBytes.Limit)))
	case errors.As(err, &dnsErr):
		if dnsErr.IsTimeout {
			return errorCode(ecDNSTimeout, nil)
		}
		return errorCode(ecDNSError, []any{cabi.Some(dnsErr.Err), cabi.None})
	case errors.Is(err, syscall.ECONNREFUSED):
		return errorCode(ecConnectionRefused, nil)
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return errorCode(ecConnectionTerminated, nil)
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return errorCode(ecDestinationUnavailable, nil)
	case errors.As(err, &certErr), errors.As(err, &unknownAuth), errors.As(err, &hostErr), errors.As(err, &invalidCert):
		return errorCode(ecTLSCertificateError, nil)
	case errors.As(err, &alert):
		return errorCode(ecTLSAlertReceived, []any{cabi.Some(uint8(alert)), cabi.Some(alert.Error())})
	case errors.As(err, &recordErr):
		return errorCode(ecTLSProtocolError, nil)
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, errTimeout):
		return errorCode(ecConnectionReadTimeout, nil)
	}
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return errorCode(ecConnectionTimeout, nil)
	}
	return internalError(err.Error())
}

// errTimeout marks request-options timeouts (first byte, between bytes).
var errTimeout = errors.New("timeout")

// httpErrorCode implements http-error-code: the io-error resource's Go
// value is the error a stream returned (or wraps it), so an ErrorCode
// inside it is the answer.
func httpErrorCode(v any) cabi.Option {
	err, ok := v.(error)
	if !ok {
		return cabi.None
	}
	var ec *ErrorCode
	if errors.As(err, &ec) {
		return cabi.Some(ec.Code)
	}
	return cabi.None
}
