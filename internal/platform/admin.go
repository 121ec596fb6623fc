package platform

import (
	"encoding/json"
	"errors"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/wisp-dev/wisp/internal/platform/store"
	"github.com/wisp-dev/wisp/pkg/platformapi"
)

// caller is an authenticated admin API client.
type caller struct {
	tenant *store.Tenant
	token  *store.Token
}

// AdminHandler serves the admin API (see package platformapi). Every
// request needs a bearer token.
//
// Tokens are "wisp_" + 32 random bytes in hex; the node stores only their
// SHA-256. A fast hash is enough because the secret is random, not chosen
// by a person: there is nothing to guess from the hash, and looking the
// hash up in a map leaks nothing useful about the secret through timing.
func (n *Node) AdminHandler() http.Handler {
	mux := http.NewServeMux()
	handle := func(pattern string, fn func(http.ResponseWriter, *http.Request, caller) error) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			c, ok := n.authenticate(r)
			if !ok {
				w.Header().Set("WWW-Authenticate", `Bearer realm="wisp"`)
				writeError(w, errorf(http.StatusUnauthorized, "missing, invalid or revoked token"))
				return
			}
			if err := fn(w, r, c); err != nil {
				var e *Error
				if !errors.As(err, &e) {
					n.log.Error("admin API", "method", r.Method, "path", r.URL.Path, "err", err)
				}
				writeError(w, err)
			}
		})
	}
	handle("GET /v1/whoami", n.apiWhoAmI)
	handle("POST /v1/tenants", n.apiCreateTenant)
	handle("GET /v1/tenants", n.apiListTenants)
	handle("POST /v1/tenants/{tenant}/tokens", n.apiCreateToken)
	handle("DELETE /v1/tokens/{id}", n.apiRevokeToken)
	handle("GET /v1/apps", n.apiListApps)
	handle("PUT /v1/apps/{app}", n.apiDeploy)
	handle("GET /v1/apps/{app}", n.apiApp)
	handle("DELETE /v1/apps/{app}", n.apiDeleteApp)
	handle("POST /v1/apps/{app}/rollback", n.apiRollback)
	handle("GET /v1/apps/{app}/logs", n.apiLogs)
	return mux
}

func (n *Node) authenticate(r *http.Request) (caller, bool) {
	secret, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || secret == "" {
		return caller{}, false
	}
	n.mu.RLock()
	defer n.mu.RUnlock()
	tok := n.tokens[hashSecret(strings.TrimSpace(secret))]
	if tok == nil {
		return caller{}, false
	}
	t := n.tenants[tok.Tenant]
	if t == nil {
		return caller{}, false
	}
	return caller{tenant: t, token: tok}, true
}

func writeError(w http.ResponseWriter, err error) {
	status := http.StatusInternalServerError
	msg := "internal error"
	var e *Error
	if errors.As(err, &e) {
		status, msg = e.Status, e.Msg
	}
	writeJSON(w, status, platformapi.Error{Error: msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func decodeJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errorf(400, "request body: %v", err)
	}
	return nil
}

func (n *Node) tenantInfo(t *store.Tenant) platformapi.Tenant {
	count := 0
	for _, a := range n.apps {
		if a.rec.Tenant == t.Name {
			count++
		}
	}
	return platformapi.Tenant{Name: t.Name, Admin: t.Admin, Quotas: n.quotas(t.Name), Apps: count}
}

func (n *Node) apiWhoAmI(w http.ResponseWriter, _ *http.Request, c caller) error {
	n.mu.RLock()
	info := n.tenantInfo(c.tenant)
	n.mu.RUnlock()
	writeJSON(w, 200, platformapi.WhoAmI{Tenant: info, TokenID: c.token.ID})
	return nil
}

func (n *Node) apiCreateTenant(w http.ResponseWriter, r *http.Request, c caller) error {
	if !c.tenant.Admin {
		return errorf(403, "only an admin may create tenants")
	}
	var req platformapi.CreateTenantRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if err := checkName("tenant", req.Name); err != nil {
		return err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.tenants[req.Name] != nil {
		return errorf(409, "tenant %q exists", req.Name)
	}
	t := &store.Tenant{Name: req.Name, Admin: req.Admin, Quotas: req.Quotas, Created: time.Now().UTC()}
	if err := n.store.Put(store.KindTenant, t.Name, t); err != nil {
		return err
	}
	n.tenants[t.Name] = t
	secret := newSecret()
	tok, err := n.addToken(t.Name, secret)
	if err != nil {
		return err
	}
	writeJSON(w, 201, platformapi.CreateTenantResponse{
		Tenant: n.tenantInfo(t),
		Token:  platformapi.Token{ID: tok.ID, Tenant: t.Name, Secret: secret, Created: tok.Created},
	})
	return nil
}

func (n *Node) apiListTenants(w http.ResponseWriter, _ *http.Request, c caller) error {
	if !c.tenant.Admin {
		return errorf(403, "only an admin may list tenants")
	}
	n.mu.RLock()
	out := make([]platformapi.Tenant, 0, len(n.tenants))
	for _, t := range n.tenants {
		out = append(out, n.tenantInfo(t))
	}
	n.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	writeJSON(w, 200, out)
	return nil
}

func (n *Node) apiCreateToken(w http.ResponseWriter, r *http.Request, c caller) error {
	name := r.PathValue("tenant")
	if !c.tenant.Admin && name != c.tenant.Name {
		return errorf(403, "a tenant may only issue tokens for itself")
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.tenants[name] == nil {
		return errorf(404, "no tenant %q", name)
	}
	secret := newSecret()
	tok, err := n.addToken(name, secret)
	if err != nil {
		return err
	}
	writeJSON(w, 201, platformapi.Token{ID: tok.ID, Tenant: name, Secret: secret, Created: tok.Created})
	return nil
}

func (n *Node) apiRevokeToken(w http.ResponseWriter, r *http.Request, c caller) error {
	id := r.PathValue("id")
	n.mu.Lock()
	defer n.mu.Unlock()
	var found *store.Token
	for _, t := range n.tokens {
		if t.ID == id {
			found = t
		}
	}
	// Another tenant's token is reported as missing.
	if found == nil || (!c.tenant.Admin && found.Tenant != c.tenant.Name) {
		return errorf(404, "no token %q", id)
	}
	if err := n.store.Delete(store.KindToken, found.ID); err != nil {
		return err
	}
	delete(n.tokens, found.Hash)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (n *Node) apiListApps(w http.ResponseWriter, _ *http.Request, c caller) error {
	n.mu.RLock()
	out := []platformapi.App{}
	for _, e := range n.apps {
		if e.rec.Tenant == c.tenant.Name {
			out = append(out, n.describe(e, false))
		}
	}
	n.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	writeJSON(w, 200, out)
	return nil
}

func (n *Node) apiDeploy(w http.ResponseWriter, r *http.Request, c caller) error {
	var hostnames []string
	q := r.URL.Query()
	if hs, ok := q["hostname"]; ok {
		hostnames = hs
	} else if q.Get("hostnames") == "none" {
		hostnames = []string{}
	}
	var e *appEntry
	var err error
	switch ct := r.Header.Get("Content-Type"); ct {
	case platformapi.BundleMediaType:
		e, err = n.Deploy(r.Context(), c.tenant.Name, r.PathValue("app"), r.Body, hostnames)
	case "application/json":
		var req platformapi.DeployReferenceRequest
		if err := decodeJSON(r, &req); err != nil {
			return err
		}
		e, err = n.DeployReference(r.Context(), c.tenant.Name, r.PathValue("app"), req.Reference, req.Variables, hostnames)
	default:
		return errorf(415, "Content-Type %q: want %s (a bundle) or application/json (a registry reference)", ct, platformapi.BundleMediaType)
	}
	if err != nil {
		return err
	}
	n.mu.RLock()
	out := n.describe(e, true)
	n.mu.RUnlock()
	writeJSON(w, 200, out)
	return nil
}

func (n *Node) apiApp(w http.ResponseWriter, r *http.Request, c caller) error {
	e, err := n.lookupApp(c.tenant.Name, r.PathValue("app"))
	if err != nil {
		return err
	}
	n.mu.RLock()
	out := n.describe(e, true)
	n.mu.RUnlock()
	writeJSON(w, 200, out)
	return nil
}

func (n *Node) apiDeleteApp(w http.ResponseWriter, r *http.Request, c caller) error {
	if err := n.DeleteApp(c.tenant.Name, r.PathValue("app")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (n *Node) apiRollback(w http.ResponseWriter, r *http.Request, c caller) error {
	var req platformapi.RollbackRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	e, err := n.Rollback(c.tenant.Name, r.PathValue("app"), req.Revision)
	if err != nil {
		return err
	}
	n.mu.RLock()
	out := n.describe(e, true)
	n.mu.RUnlock()
	writeJSON(w, 200, out)
	return nil
}

func (n *Node) apiLogs(w http.ResponseWriter, r *http.Request, c caller) error {
	tail := 100
	if s := r.URL.Query().Get("tail"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 0 {
			return errorf(400, "tail=%q: want a number of lines", s)
		}
		tail = v
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	return n.Logs(c.tenant.Name, r.PathValue("app"), tail, w)
}
