package platform

import (
	"errors"
	"net"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/wisp-dev/wisp/pkg/platformapi"
)

// AppHandler serves every app: the Host header picks the app
// (<name>.<domain> or one of its custom hostnames), then the app's own
// HTTP trigger routes the path.
func (n *Node) AppHandler() http.Handler { return http.HandlerFunc(n.serveApp) }

// hostKey normalises a Host header: lower case, no port, no final dot.
func hostKey(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return strings.TrimSuffix(strings.ToLower(host), ".")
}

// lookupHost returns the app serving host; call with n.mu held.
func (n *Node) lookupHost(host string) *appEntry {
	h := hostKey(host)
	if label, ok := strings.CutSuffix(h, "."+n.cfg.Domain); ok {
		if strings.Contains(label, ".") {
			return nil // only one label: a.b.<domain> is nobody's
		}
		return n.apps[label]
	}
	if name, ok := n.hosts[h]; ok {
		return n.apps[name]
	}
	return nil
}

func tooMany(w http.ResponseWriter, what string) {
	w.Header().Set("Retry-After", "1")
	http.Error(w, "too many concurrent requests for "+what, http.StatusTooManyRequests)
}

// tenantCounter returns (creating) the tenant's in-flight counter.
func (n *Node) tenantCounter(tenant string) *atomic.Int32 {
	n.mu.Lock()
	defer n.mu.Unlock()
	c := n.running[tenant]
	if c == nil {
		c = new(atomic.Int32)
		n.running[tenant] = c
	}
	return c
}

func (n *Node) serveApp(w http.ResponseWriter, r *http.Request) {
	n.mu.RLock()
	e := n.lookupHost(r.Host)
	var q platformapi.Quotas
	var running *atomic.Int32
	if e != nil {
		q = n.quotas(e.rec.Tenant)
		running = n.running[e.rec.Tenant]
	}
	n.mu.RUnlock()
	if e == nil {
		http.Error(w, "no app is deployed at this host", http.StatusNotFound)
		return
	}
	if running == nil {
		running = n.tenantCounter(e.rec.Tenant)
	}
	// Both limits: one app's, and the tenant's across its apps, so that
	// one tenant cannot take every core from the others.
	if int(e.inflight.Add(1)) > q.MaxConcurrency {
		e.inflight.Add(-1)
		tooMany(w, "this app")
		return
	}
	defer e.inflight.Add(-1)
	if int(running.Add(1)) > q.MaxTenantConcurrency {
		running.Add(-1)
		tooMany(w, "this tenant's apps")
		return
	}
	defer running.Add(-1)

	l, err := n.pool.acquire(r.Context(), e)
	if errors.Is(err, errGone) {
		http.Error(w, "no app is deployed at this host", http.StatusNotFound)
		return
	}
	if err != nil {
		// The details are the app owner's business: they go to the log
		// (and to the owner at deploy time), not to any client.
		n.log.Error("loading app failed", "app", e.rec.Name, "err", err)
		http.Error(w, "the app could not be started", http.StatusServiceUnavailable)
		return
	}
	defer l.release()
	l.handler.ServeHTTP(w, r)
}
