// A Wisp component in standard Go that uses the host APIs of the Wisp Go
// SDK: key-value, variables, outbound HTTP and LLM (apis.go), and the
// databases and messaging of services.go.
//
//	wisp up --build -f examples/go-sdk-apis
//	curl -X PUT --data hello localhost:3000/kv/greeting
//	curl localhost:3000/kv/greeting
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	wisphttp "github.com/wisp-dev/wisp/sdk/go/http"
	_ "github.com/wisp-dev/wisp/sdk/go/httpclient" // http.DefaultClient sends through the host
	"github.com/wisp-dev/wisp/sdk/go/kv"
	"github.com/wisp-dev/wisp/sdk/go/llm"
	"github.com/wisp-dev/wisp/sdk/go/variables"
)

func init() {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /kv/{key}", kvGet)
	mux.HandleFunc("PUT /kv/{key}", kvPut)
	mux.HandleFunc("DELETE /kv/{key}", kvDelete)
	mux.HandleFunc("GET /kv", kvKeys)
	mux.HandleFunc("GET /variables/{name}", variableGet)
	mux.HandleFunc("/proxy", proxy)
	mux.HandleFunc("POST /llm/infer", llmInfer)
	mux.HandleFunc("POST /llm/embed", llmEmbed)
	registerServices(mux)
	wisphttp.Handle(mux)
}

func main() {}

func fail(w http.ResponseWriter, err error, code int) {
	http.Error(w, err.Error(), code)
}

func openStore(w http.ResponseWriter, r *http.Request) *kv.Store {
	label := r.URL.Query().Get("store")
	if label == "" {
		label = "default"
	}
	s, err := kv.Open(label)
	if err != nil {
		code := http.StatusInternalServerError
		if errors.Is(err, kv.ErrAccessDenied) || errors.Is(err, kv.ErrNoSuchStore) {
			code = http.StatusForbidden
		}
		fail(w, err, code)
		return nil
	}
	return s
}

func kvGet(w http.ResponseWriter, r *http.Request) {
	s := openStore(w, r)
	if s == nil {
		return
	}
	defer s.Close()
	v, err := s.Get(r.PathValue("key"))
	if errors.Is(err, kv.ErrNotFound) {
		fail(w, err, http.StatusNotFound)
		return
	} else if err != nil {
		fail(w, err, http.StatusInternalServerError)
		return
	}
	w.Write(v)
}

func kvPut(w http.ResponseWriter, r *http.Request) {
	s := openStore(w, r)
	if s == nil {
		return
	}
	defer s.Close()
	v, err := io.ReadAll(r.Body)
	if err != nil {
		fail(w, err, http.StatusBadRequest)
		return
	}
	if err := s.Set(r.PathValue("key"), v); err != nil {
		fail(w, err, http.StatusInternalServerError)
		return
	}
	ok, err := s.Exists(r.PathValue("key"))
	fmt.Fprintf(w, "stored %d bytes (exists: %v, %v)", len(v), ok, err)
}

func kvDelete(w http.ResponseWriter, r *http.Request) {
	s := openStore(w, r)
	if s == nil {
		return
	}
	defer s.Close()
	if err := s.Delete(r.PathValue("key")); err != nil {
		fail(w, err, http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func kvKeys(w http.ResponseWriter, r *http.Request) {
	s := openStore(w, r)
	if s == nil {
		return
	}
	defer s.Close()
	keys, err := s.Keys()
	if err != nil {
		fail(w, err, http.StatusInternalServerError)
		return
	}
	json.NewEncoder(w).Encode(keys)
}

func variableGet(w http.ResponseWriter, r *http.Request) {
	v, err := variables.Get(r.PathValue("name"))
	var verr *variables.Error
	if errors.As(err, &verr) && verr.Kind == variables.Undefined {
		fail(w, err, http.StatusNotFound)
		return
	} else if err != nil {
		fail(w, err, http.StatusInternalServerError)
		return
	}
	fmt.Fprint(w, v)
}

// proxy sends the request's method, X-* headers and body to ?url= with
// the standard http.Client (the SDK's transport), both bodies streamed,
// and answers with the response. X-Proxy-Request-Sha256 is the SHA-256 of
// the request body as it was sent.
func proxy(w http.ResponseWriter, r *http.Request) {
	target := r.URL.Query().Get("url")
	h := sha256.New()
	out, err := http.NewRequestWithContext(r.Context(), r.Method, target, io.TeeReader(r.Body, h))
	if err != nil {
		fail(w, err, http.StatusBadRequest)
		return
	}
	out.ContentLength = r.ContentLength
	if r.ContentLength == 0 {
		out.Body = http.NoBody
	}
	for k, vs := range r.Header {
		if strings.HasPrefix(k, "X-") {
			out.Header[k] = vs
		}
	}
	resp, err := http.DefaultClient.Do(out)
	if err != nil {
		fail(w, err, http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for k, vs := range resp.Header {
		if strings.HasPrefix(k, "X-") || k == "Content-Type" || k == "Content-Length" {
			w.Header()[k] = vs
		}
	}
	w.Header().Set("X-Proxy-Request-Sha256", hex.EncodeToString(h.Sum(nil)))
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, resp.Body)
}

func llmInfer(w http.ResponseWriter, r *http.Request) {
	prompt, _ := io.ReadAll(r.Body)
	params := llm.DefaultParams
	params.MaxTokens = 20
	res, err := llm.Infer(llm.Llama2Chat, string(prompt), &params)
	if err != nil {
		fail(w, err, http.StatusInternalServerError)
		return
	}
	json.NewEncoder(w).Encode(res)
}

func llmEmbed(w http.ResponseWriter, r *http.Request) {
	var texts []string
	if err := json.NewDecoder(r.Body).Decode(&texts); err != nil {
		fail(w, err, http.StatusBadRequest)
		return
	}
	res, err := llm.GenerateEmbeddings(llm.AllMiniLmL6V2, texts)
	if err != nil {
		fail(w, err, http.StatusInternalServerError)
		return
	}
	json.NewEncoder(w).Encode(res)
}
