package platformapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Client calls a wisp server's admin API.
type Client struct {
	base  string
	token string
	http  *http.Client
}

// NewClient returns a client for the admin API at baseURL (for example
// "http://127.0.0.1:3001") authenticating with token. httpClient may be nil
// (http.DefaultClient).
func NewClient(baseURL, token string, httpClient *http.Client) *Client {
	if httpClient == nil {
		httpClient = http.DefaultClient
	}
	return &Client{base: strings.TrimRight(baseURL, "/"), token: token, http: httpClient}
}

// StatusError is a failed call: the HTTP status and the server's message.
type StatusError struct {
	Status  int
	Message string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("server answered %d: %s", e.Status, e.Message)
}

// IsStatus reports whether err is a StatusError with the given status.
func IsStatus(err error, status int) bool {
	var se *StatusError
	return errors.As(err, &se) && se.Status == status
}

func (c *Client) do(ctx context.Context, method, path string, body io.Reader, contentType string, size int64, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, c.base+"/v1"+path, body)
	if err != nil {
		return err
	}
	if size >= 0 && body != nil {
		req.ContentLength = size
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		var e Error
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		if json.Unmarshal(data, &e) != nil || e.Error == "" {
			e.Error = strings.TrimSpace(string(data))
		}
		return &StatusError{Status: resp.StatusCode, Message: e.Error}
	}
	if out == nil {
		return nil
	}
	if w, ok := out.(io.Writer); ok {
		_, err := io.Copy(w, resp.Body)
		return err
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("decoding the server's answer: %w", err)
	}
	return nil
}

func (c *Client) doJSON(ctx context.Context, method, path string, in, out any) error {
	if in == nil {
		return c.do(ctx, method, path, nil, "", -1, out)
	}
	data, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return c.do(ctx, method, path, bytes.NewReader(data), "application/json", int64(len(data)), out)
}

// WhoAmI returns the caller's tenant; a cheap way to check a token.
func (c *Client) WhoAmI(ctx context.Context) (*WhoAmI, error) {
	var out WhoAmI
	return &out, c.doJSON(ctx, http.MethodGet, "/whoami", nil, &out)
}

// CreateTenant creates a tenant and returns its first token (admin only).
func (c *Client) CreateTenant(ctx context.Context, req CreateTenantRequest) (*CreateTenantResponse, error) {
	var out CreateTenantResponse
	return &out, c.doJSON(ctx, http.MethodPost, "/tenants", req, &out)
}

// ListTenants lists every tenant (admin only).
func (c *Client) ListTenants(ctx context.Context) ([]Tenant, error) {
	var out []Tenant
	return out, c.doJSON(ctx, http.MethodGet, "/tenants", nil, &out)
}

// CreateToken issues another token for tenant.
func (c *Client) CreateToken(ctx context.Context, tenant string) (*Token, error) {
	var out Token
	return &out, c.doJSON(ctx, http.MethodPost, "/tenants/"+url.PathEscape(tenant)+"/tokens", nil, &out)
}

// RevokeToken revokes the token with the given id; it stops working at
// once.
func (c *Client) RevokeToken(ctx context.Context, id string) error {
	return c.doJSON(ctx, http.MethodDelete, "/tokens/"+url.PathEscape(id), nil, nil)
}

// Deploy uploads a bundle (BundleMediaType) of size bytes as the next
// revision of app, creating the app if needed, and returns the app as the
// server now serves it. Wrap bundle to observe upload progress.
func (c *Client) Deploy(ctx context.Context, app string, bundle io.Reader, size int64, opts DeployOptions) (*App, error) {
	q := url.Values{}
	for _, h := range opts.Hostnames {
		q.Add("hostname", h)
	}
	if opts.Hostnames != nil && len(opts.Hostnames) == 0 {
		q.Set("hostnames", "none")
	}
	path := "/apps/" + url.PathEscape(app)
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var out App
	return &out, c.do(ctx, http.MethodPut, path, bundle, BundleMediaType, size, &out)
}

// DeployReference makes the server pull ref (an OCI reference such as
// "registry.example.com/team/app:v1") and deploy it as the next revision
// of app.
func (c *Client) DeployReference(ctx context.Context, app string, req DeployReferenceRequest, opts DeployOptions) (*App, error) {
	data, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	q := url.Values{}
	for _, h := range opts.Hostnames {
		q.Add("hostname", h)
	}
	path := "/apps/" + url.PathEscape(app)
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var out App
	return &out, c.do(ctx, http.MethodPut, path, bytes.NewReader(data), "application/json", int64(len(data)), &out)
}

// ListApps lists the caller's apps.
func (c *Client) ListApps(ctx context.Context) ([]App, error) {
	var out []App
	return out, c.doJSON(ctx, http.MethodGet, "/apps", nil, &out)
}

// App inspects one app.
func (c *Client) App(ctx context.Context, app string) (*App, error) {
	var out App
	return &out, c.doJSON(ctx, http.MethodGet, "/apps/"+url.PathEscape(app), nil, &out)
}

// Rollback makes revision (0: the one before the current) current.
func (c *Client) Rollback(ctx context.Context, app string, revision int) (*App, error) {
	var out App
	return &out, c.doJSON(ctx, http.MethodPost, "/apps/"+url.PathEscape(app)+"/rollback", RollbackRequest{Revision: revision}, &out)
}

// DeleteApp deletes the app with its revisions and state.
func (c *Client) DeleteApp(ctx context.Context, app string) error {
	return c.doJSON(ctx, http.MethodDelete, "/apps/"+url.PathEscape(app), nil, nil)
}

// Logs writes the last tail lines of the app's component logs to w.
func (c *Client) Logs(ctx context.Context, app string, tail int, w io.Writer) error {
	return c.do(ctx, http.MethodGet, "/apps/"+url.PathEscape(app)+"/logs?tail="+strconv.Itoa(tail), nil, "", -1, w)
}
