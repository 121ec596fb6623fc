package wagi

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"sync"
)

// requestBody returns the guest's stdin and the CONTENT_LENGTH to announce.
// A body of known length is streamed; a chunked body is read first, because
// CGI guests rely on CONTENT_LENGTH to know how much to read.
func requestBody(r *http.Request) (*stdin, int64, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return &stdin{r: http.NoBody}, 0, nil // stateless, unlike an empty bytes.Reader
	}
	if r.ContentLength >= 0 {
		return &stdin{r: r.Body}, r.ContentLength, nil
	}
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, 0, err
	}
	return &stdin{r: bytes.NewReader(b)}, int64(len(b)), nil
}

// stdin remembers the first read error other than EOF, so the handler can
// tell "body too large" (http.MaxBytesError from the trigger's limit) from a
// guest failure: the guest only sees an I/O error.
type stdin struct {
	r io.Reader

	mu      sync.Mutex
	readErr error
}

func (s *stdin) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF {
		s.mu.Lock()
		if s.readErr == nil {
			s.readErr = err
		}
		s.mu.Unlock()
	}
	return n, err
}

func (s *stdin) err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.readErr
}

// limitedBuffer collects stdout up to max bytes; beyond that writes fail (the
// guest sees an I/O error) and overflow is set.
type limitedBuffer struct {
	bytes.Buffer
	max      int64
	overflow bool
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if int64(b.Len())+int64(len(p)) > b.max {
		b.overflow = true
		return 0, errResponseTooLarge
	}
	return b.Buffer.Write(p)
}

var errResponseTooLarge = errors.New("wagi: response too large")
