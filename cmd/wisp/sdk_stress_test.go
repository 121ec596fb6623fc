package main

// Stress of the Go SDK through the real wisp binary: thousands of
// requests from concurrent clients, large header sets, 10 MiB bodies
// streamed into a guest, out of it through an outbound request and back,
// with checksums at every end, and the host's and the guest's memory
// staying bounded.

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wisp-dev/wisp/internal/testguest"
)

const stressManifest = `spin_manifest_version = 2

[application]
name = "sdk-stress"

[[trigger.http]]
route = "/..."
component = "testapp"

[component.testapp]
source = "main.wasm"
allowed_outbound_hosts = ["http://127.0.0.1:*"]
`

// testApp builds the SDK's test guest (sdk/go/internal/testapp) into an
// app directory.
func testApp(t *testing.T) string {
	t.Helper()
	requireTool(t, "go")
	dir := t.TempDir()
	testguest.GoReactor(t, filepath.Join(repoRoot(t), "sdk", "go", "internal", "testapp"), filepath.Join(dir, "main.wasm"))
	if err := os.WriteFile(filepath.Join(dir, "spin.toml"), []byte(stressManifest), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// rssBytes is a process's resident set size (Linux).
func rssBytes(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	t.Fatal("no VmRSS")
	return 0
}

// echoBackend answers each request with its body and records the length
// and SHA-256 of every body it received. On /duplex it echoes as it reads
// (full duplex: the client must read the response while still sending);
// elsewhere it reads the whole body first.
type echoBackend struct {
	mu   sync.Mutex
	sums []string
}

func (e *echoBackend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/octet-stream")
	h := sha256.New()
	var n int64
	if r.URL.Path == "/duplex" {
		http.NewResponseController(w).EnableFullDuplex()
		var err error
		if n, err = io.Copy(io.MultiWriter(w, h), r.Body); err != nil {
			return
		}
	} else {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return
		}
		h.Write(body)
		n = int64(len(body))
		defer w.Write(body)
	}
	e.mu.Lock()
	e.sums = append(e.sums, fmt.Sprintf("%d:%x", n, h.Sum(nil)))
	e.mu.Unlock()
}

func (e *echoBackend) saw(n int, sum string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, s := range e.sums {
		if s == fmt.Sprintf("%d:%s", n, sum) {
			return true
		}
	}
	return false
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestSDKStress(t *testing.T) {
	if testing.Short() {
		t.Skip("stress")
	}
	s := up(t, testApp(t))
	pid := s.cmd.Process.Pid
	client := &http.Client{Timeout: 120 * time.Second}
	send := func(method, url string, body []byte, header http.Header) (*http.Response, []byte, error) {
		req, err := http.NewRequest(method, url, bytes.NewReader(body))
		if err != nil {
			return nil, nil, err
		}
		for k, v := range header {
			req.Header[k] = v
		}
		resp, err := client.Do(req)
		if err != nil {
			return nil, nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp, b, err
	}

	// Warm up (compilation, first instances), then take the host's RSS.
	for range 20 {
		if _, _, err := send("POST", s.URL+"/echo", []byte("warm"), nil); err != nil {
			t.Fatal(err)
		}
	}
	rssBefore := rssBytes(t, pid)

	t.Run("thousands of concurrent requests", func(t *testing.T) {
		const clients, each = 16, 150
		start := time.Now()
		var wg sync.WaitGroup
		errs := make(chan error, clients)
		for c := range clients {
			wg.Go(func() {
				for i := range each {
					body := make([]byte, (c*7919+i*104729)%(48<<10))
					rand.Read(body)
					tag := fmt.Sprintf("client-%d-req-%d", c, i)
					resp, got, err := send("POST", s.URL+"/echo", body, http.Header{"X-Tag": {tag}, "X-Sum": {sha(body)}})
					if err == nil && (resp.StatusCode != 200 || !bytes.Equal(got, body) || resp.Header.Get("X-Tag") != tag || resp.Header.Get("X-Sum") != sha(body)) {
						err = fmt.Errorf("%s: status %d, %d bytes back of %d, tag %q", tag, resp.StatusCode, len(got), len(body), resp.Header.Get("X-Tag"))
					}
					if err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		t.Logf("%d requests from %d clients in %v", clients*each, clients, time.Since(start))
	})

	t.Run("large headers", func(t *testing.T) {
		header := http.Header{}
		var lines []string
		for i := range 64 {
			v := strings.Repeat(fmt.Sprintf("%02x", i), 2000) // 4000 bytes
			k := fmt.Sprintf("X-H-%03d", i)
			header.Set(k, v)
			lines = append(lines, k+": "+v+"\n")
		}
		sort.Strings(lines)
		want := fmt.Sprintf("%d %s", len(lines), sha([]byte(strings.Join(lines, ""))))
		for i := range 20 {
			resp, got, err := send("GET", s.URL+"/headers", nil, header)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != 200 || string(got) != want {
				t.Fatalf("request %d: %d %q, want %q", i, resp.StatusCode, got, want)
			}
		}
	})

	backend := &echoBackend{}
	srv := httptest.NewServer(backend)
	defer srv.Close()

	t.Run("10 MiB streamed both ways, concurrently", func(t *testing.T) {
		const size = 10 << 20
		var wg sync.WaitGroup
		errs := make(chan error, 4)
		for i := range 4 {
			wg.Go(func() {
				body := make([]byte, size+i)
				rand.Read(body)
				// The backend reads the whole body before answering: the
				// guest's own response starts only then, as Wisp's HTTP
				// trigger does not read a request body once the response
				// has started (no full duplex on the inbound side).
				resp, got, err := send("POST", s.URL+"/proxy-echo?url="+srv.URL+"/echo", body, nil)
				switch {
				case err != nil:
				case resp.StatusCode != 200:
					err = fmt.Errorf("status %d: %.200q", resp.StatusCode, got)
				case sha(got) != sha(body):
					err = fmt.Errorf("body %d: %d bytes came back, checksum differs", i, len(got))
				case !backend.saw(len(body), sha(body)):
					err = fmt.Errorf("body %d: the backend did not receive it intact", i)
				}
				if err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	})

	// The guest sends 10 MiB to a backend that echoes as it reads (full
	// duplex): the SDK's transport reads the response while still sending.
	t.Run("guest memory stays bounded while streaming", func(t *testing.T) {
		const size = 10 << 20
		resp, got, err := send("GET", s.URL+"/pump?n="+strconv.Itoa(size)+"&url="+srv.URL+"/duplex", nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		var st struct {
			Sent, Received string
			ReceivedBytes  int64  `json:"received_bytes"`
			TotalAlloc     uint64 `json:"total_alloc"`
			HeapSys        uint64 `json:"heap_sys"`
		}
		if err := json.Unmarshal(got, &st); err != nil || resp.StatusCode != 200 {
			t.Fatalf("pump: %d %q %v", resp.StatusCode, got, err)
		}
		if st.Sent != st.Received || st.ReceivedBytes != size || !backend.saw(size, st.Sent) {
			t.Fatalf("pump: %+v", st)
		}
		t.Logf("guest moved 2×%d bytes: total allocated %d, heap %d", size, st.TotalAlloc, st.HeapSys)
		// Buffering either body would need a heap larger than its 10 MiB;
		// streaming keeps it at a few MiB (TotalAlloc counts the short-lived
		// garbage of the generator and the hashes, so it is only logged).
		if st.HeapSys > 8<<20 {
			t.Errorf("the guest allocated %d bytes (heap %d) to stream 10 MiB each way", st.TotalAlloc, st.HeapSys)
		}
	})

	// The host does not keep what the instances used: after all of the
	// above, RSS has not grown by more than a bounded amount.
	rssAfter := rssBytes(t, pid)
	t.Logf("wisp RSS: %d MiB after warm-up, %d MiB after the stress", rssBefore>>20, rssAfter>>20)
	if rssAfter-rssBefore > 512<<20 {
		t.Errorf("wisp's RSS grew by %d MiB", (rssAfter-rssBefore)>>20)
	}
}
