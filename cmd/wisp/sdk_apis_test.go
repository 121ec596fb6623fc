package main

// The Go SDK's host APIs end to end: examples/go-sdk-apis, built with the
// standard Go toolchain, served by the real wisp binary, against the real
// services (internal/testsvc) and, for outbound HTTP and LLM, servers in
// this process.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	goredis "github.com/redis/go-redis/v9"

	"github.com/wisp-dev/wisp/internal/testsvc"
)

// fakeLLM serves Spin's default LLM API (POST /infer, /embed).
func fakeLLM(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "bearer test-token" {
			http.Error(w, "bad token", http.StatusUnauthorized)
			return
		}
		var req struct {
			Model   string
			Prompt  string
			Input   []string
			Options struct{ MaxTokens uint32 }
		}
		json.NewDecoder(r.Body).Decode(&req)
		switch r.URL.Path {
		case "/infer":
			fmt.Fprintf(w, `{"text": "echo(%s): %s max=%d", "usage": {"promptTokenCount": 3, "generatedTokenCount": 5}}`,
				req.Model, req.Prompt, req.Options.MaxTokens)
		case "/embed":
			emb := make([][]float32, len(req.Input))
			for i, s := range req.Input {
				emb[i] = []float32{float32(len(s)), 0.5, -1}
			}
			json.NewEncoder(w).Encode(map[string]any{"embeddings": emb, "usage": map[string]any{"promptTokenCount": len(req.Input)}})
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestSDKAPIs(t *testing.T) {
	app := sdkApp(t, "go-sdk-apis")
	rc := filepath.Join(app, "runtime-config.toml")
	os.WriteFile(rc, []byte(fmt.Sprintf("[llm_compute]\ntype = \"remote_http\"\nurl = %q\nauth_token = \"test-token\"\n", fakeLLM(t))), 0o644)
	s := up(t, app, "--runtime-config-file", rc, "--variable", "secret=s3cret-value")

	t.Run("key-value", func(t *testing.T) {
		key := testsvc.Unique(t)
		if r := do(t, "PUT", s.URL+"/kv/"+key, strings.NewReader("hello kv"), nil); r.Status != 200 || r.Body != "stored 8 bytes (exists: true, <nil>)" {
			t.Fatalf("PUT = %d %q", r.Status, r.Body)
		}
		if r := get(t, s.URL+"/kv/"+key); r.Status != 200 || r.Body != "hello kv" {
			t.Fatalf("GET = %d %q", r.Status, r.Body)
		}
		if r := get(t, s.URL+"/kv"); !strings.Contains(r.Body, `"`+key+`"`) {
			t.Fatalf("keys = %d %q", r.Status, r.Body)
		}
		if r := do(t, "DELETE", s.URL+"/kv/"+key, nil, nil); r.Status != 204 {
			t.Fatalf("DELETE = %d %q", r.Status, r.Body)
		}
		if r := get(t, s.URL+"/kv/"+key); r.Status != 404 || !strings.Contains(r.Body, "key not found") {
			t.Fatalf("GET after delete = %d %q", r.Status, r.Body)
		}
		// The manifest grants "default" only.
		if r := get(t, s.URL+"/kv/x?store=other"); r.Status != 403 || !strings.Contains(r.Body, "kv: ") {
			t.Fatalf("other store = %d %q", r.Status, r.Body)
		}
	})

	t.Run("variables", func(t *testing.T) {
		if r := get(t, s.URL+"/variables/greeting"); r.Status != 200 || r.Body != "Hello from a variable" {
			t.Fatalf("greeting = %d %q", r.Status, r.Body)
		}
		if r := get(t, s.URL+"/variables/secret"); r.Status != 200 || r.Body != "s3cret-value" {
			t.Fatalf("secret = %d %q", r.Status, r.Body)
		}
		if r := get(t, s.URL+"/variables/nope"); r.Status != 404 || !strings.Contains(r.Body, "variables: undefined") {
			t.Fatalf("undefined = %d %q", r.Status, r.Body)
		}
	})

	t.Run("outbound HTTP", func(t *testing.T) {
		backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Backend-Method", r.Method)
			w.Header().Set("X-Backend-Saw", r.Header.Get("X-Forward-Me"))
			if r.URL.Path == "/redirect" {
				http.Redirect(w, r, "/final?from=redirect", http.StatusFound)
				return
			}
			w.WriteHeader(http.StatusTeapot)
			fmt.Fprintf(w, "%s %s ", r.Method, r.URL.RequestURI())
			io.Copy(w, r.Body)
		}))
		defer backend.Close()
		h := http.Header{"X-Forward-Me": {"yes"}}
		r := do(t, "POST", s.URL+"/proxy?url="+backend.URL+"/path%3Fq%3D1", strings.NewReader("request body"), h)
		if r.Status != 418 || r.Body != "POST /path?q=1 request body" || r.Header.Get("X-Backend-Saw") != "yes" || r.Header.Get("X-Backend-Method") != "POST" {
			t.Fatalf("proxy = %d %v %q", r.Status, r.Header, r.Body)
		}
		// http.Client follows the redirect through the SDK's transport.
		r = get(t, s.URL+"/proxy?url="+backend.URL+"/redirect")
		if r.Status != 418 || r.Body != "GET /final?from=redirect " {
			t.Fatalf("redirect = %d %q", r.Status, r.Body)
		}
		// Not in allowed_outbound_hosts: the host refuses, the client
		// sees the wasi:http error code.
		r = get(t, s.URL+"/proxy?url=http://localhost:1/")
		if r.Status != 502 || !strings.Contains(r.Body, "HTTP-request-denied") {
			t.Fatalf("denied = %d %q", r.Status, r.Body)
		}
		r = get(t, s.URL+"/proxy?url=http://127.0.0.1:1/")
		if r.Status != 502 || !strings.Contains(r.Body, "httpclient: connection-refused") {
			t.Fatalf("refused = %d %q", r.Status, r.Body)
		}
	})

	t.Run("llm", func(t *testing.T) {
		r := do(t, "POST", s.URL+"/llm/infer", strings.NewReader("say hi"), nil)
		var inf struct {
			Text                                  string
			PromptTokenCount, GeneratedTokenCount uint32
		}
		if err := json.Unmarshal([]byte(r.Body), &inf); err != nil || r.Status != 200 ||
			inf.Text != "echo(llama2-chat): say hi max=20" || inf.PromptTokenCount != 3 || inf.GeneratedTokenCount != 5 {
			t.Fatalf("infer = %d %q (%v)", r.Status, r.Body, err)
		}
		r = do(t, "POST", s.URL+"/llm/embed", strings.NewReader(`["a", "bcd"]`), nil)
		var emb struct {
			Embeddings       [][]float32
			PromptTokenCount uint32
		}
		if err := json.Unmarshal([]byte(r.Body), &emb); err != nil || r.Status != 200 || len(emb.Embeddings) != 2 ||
			emb.Embeddings[1][0] != 3 || emb.Embeddings[0][2] != -1 || emb.PromptTokenCount != 2 {
			t.Fatalf("embed = %d %q (%v)", r.Status, r.Body, err)
		}
	})

	t.Run("sqlite", func(t *testing.T) {
		r := get(t, s.URL+"/sqlite/"+testsvc.Unique(t))
		if r.Status != 200 || strings.TrimSpace(r.Body) != `[[-42,2.5,"héllo","AAEC",null]]` {
			t.Fatalf("sqlite = %d %q", r.Status, r.Body)
		}
	})
}

// TestSDKServices needs the real Redis, PostgreSQL, MariaDB and Mosquitto.
func TestSDKServices(t *testing.T) {
	redisURL, pgURL, mysqlURL, mqttURL := testsvc.Redis(t), testsvc.Postgres(t), testsvc.MySQL(t), testsvc.MQTT(t)
	app := sdkApp(t, "go-sdk-apis")
	s := up(t, app, "--variable", "secret=x",
		"--variable", "redis_address="+redisURL,
		"--variable", "postgres_address="+strings.TrimSuffix(pgURL, "?sslmode=disable"),
		"--variable", "mysql_address="+mysqlURL,
		"--variable", "mqtt_address="+mqttURL+"?client_id="+testsvc.Unique(t))

	t.Run("redis", func(t *testing.T) {
		key := testsvc.Unique(t)
		r := get(t, s.URL+"/redis/"+key)
		want := `{"append":[10],"del":3,"get":"value","incr":1,"missing":null,"sadd":3,"smembers":["a","c"],"srem":1,"status":"OK"}`
		var got, w map[string]any
		json.Unmarshal([]byte(r.Body), &got)
		json.Unmarshal([]byte(want), &w)
		// A set's members come in Redis's hash order, which changes
		// with each server start.
		if m, ok := got["smembers"].([]any); ok {
			slices.SortFunc(m, func(a, b any) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
		}
		if r.Status != 200 || fmt.Sprint(got) != fmt.Sprint(w) {
			t.Fatalf("redis = %d %q", r.Status, r.Body)
		}
		opts, err := goredis.ParseURL(redisURL)
		if err != nil {
			t.Fatal(err)
		}
		c := goredis.NewClient(opts)
		defer c.Close()
		ctx := context.Background()
		defer c.Del(ctx, key)
		if v, err := c.Get(ctx, key).Result(); err != nil || v != "value+more" {
			t.Fatalf("Redis holds %q, %v", v, err)
		}
		// Publish reaches a subscriber.
		channel := testsvc.Unique(t)
		sub := c.Subscribe(ctx, channel)
		defer sub.Close()
		if _, err := sub.Receive(ctx); err != nil {
			t.Fatal(err)
		}
		if r := do(t, "POST", s.URL+"/redis/publish/"+channel, strings.NewReader("pub payload"), nil); r.Status != 200 {
			t.Fatalf("publish = %d %q", r.Status, r.Body)
		}
		select {
		case m := <-sub.Channel():
			if m.Payload != "pub payload" {
				t.Fatalf("received %q", m.Payload)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no message published")
		}
	})

	t.Run("postgres", func(t *testing.T) {
		r := get(t, s.URL+"/postgres/"+testsvc.Unique(t))
		var got struct {
			Inserted int
			Columns  []string
			Rows     [][]any
			Types    []string
			Error    string
		}
		if err := json.Unmarshal([]byte(r.Body), &got); err != nil || r.Status != 200 {
			t.Fatalf("postgres = %d %q", r.Status, r.Body)
		}
		if got.Inserted != 2 || fmt.Sprint(got.Rows) != "[[true -16 -32 -64 1.5 2.25 héllo AP8= <nil>]]" ||
			strings.Join(got.Types, ",") != "bool,int16,int32,int64,float32,float64,string,[]uint8,<nil>" ||
			strings.Join(got.Columns, ",") != "b:0,i16:2,i32:3,i64:4,f32:9,f64:10,s:11,bin:12,n:11" ||
			!strings.HasPrefix(got.Error, "query-failed: ") {
			t.Fatalf("postgres = %q", r.Body)
		}
	})

	t.Run("mysql", func(t *testing.T) {
		r := get(t, s.URL+"/mysql/"+testsvc.Unique(t))
		if r.Status != 200 || strings.TrimSpace(r.Body) != `{"rows":[[-7,"héllo","AQI=",0.5,null]],"types":["int32","string","[]uint8","float64","\u003cnil\u003e"]}` {
			t.Fatalf("mysql = %d %q", r.Status, r.Body)
		}
	})

	t.Run("mqtt", func(t *testing.T) {
		topic := "wisp/" + testsvc.Unique(t)
		opts := paho.NewClientOptions().AddBroker(strings.Replace(mqttURL, "mqtt://", "tcp://", 1)).SetClientID(testsvc.Unique(t))
		c := paho.NewClient(opts)
		if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			t.Fatalf("connect: %v", tok.Error())
		}
		defer c.Disconnect(100)
		var mu sync.Mutex
		got := make(chan string, 1)
		if tok := c.Subscribe(topic, 1, func(_ paho.Client, m paho.Message) {
			mu.Lock()
			defer mu.Unlock()
			select {
			case got <- string(m.Payload()):
			default:
			}
		}); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			t.Fatalf("subscribe: %v", tok.Error())
		}
		if r := do(t, "POST", s.URL+"/mqtt/"+topic, strings.NewReader("mqtt payload"), nil); r.Status != 200 {
			t.Fatalf("publish = %d %q", r.Status, r.Body)
		}
		select {
		case p := <-got:
			if p != "mqtt payload" {
				t.Fatalf("received %q", p)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no message published")
		}
	})
}
