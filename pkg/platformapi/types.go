// Package platformapi is the admin API of `wisp server`: its JSON types and
// a Go client. The API is HTTP+JSON on the server's admin listener; every
// request carries "Authorization: Bearer <token>".
//
// Endpoints (all under /v1):
//
//	GET    /whoami                         the caller's tenant
//	POST   /tenants                        create a tenant and its first token (admin)
//	GET    /tenants                        list tenants (admin)
//	POST   /tenants/{tenant}/tokens        issue another token (admin, or the tenant itself)
//	DELETE /tokens/{id}                    revoke a token (admin, or the owning tenant)
//	GET    /apps                           the caller's apps
//	PUT    /apps/{app}                     deploy a bundle (body) as the app's next revision,
//	                                       or (JSON DeployReferenceRequest) an OCI artifact
//	GET    /apps/{app}                     inspect
//	DELETE /apps/{app}                     delete the app, its revisions and its state
//	POST   /apps/{app}/rollback            make an earlier revision current
//	GET    /apps/{app}/logs?tail=N         the last N lines of the app's component logs
//
// Errors are JSON Error bodies with a non-2xx status.
package platformapi

import "time"

// BundleMediaType is the Content-Type of a deploy request's body: a
// gzip-compressed tar holding BundleManifest (bundle.json) and the blobs it
// names (see internal/platform/bundle).
const BundleMediaType = "application/vnd.wisp.bundle.v1+tar+gzip"

// Error is the body of every failed request.
type Error struct {
	Error string `json:"error"`
}

// Tenant is an account that owns apps.
type Tenant struct {
	Name   string `json:"name"`
	Admin  bool   `json:"admin,omitempty"`
	Quotas Quotas `json:"quotas"`
	// Apps is how many apps the tenant has (in listings).
	Apps int `json:"apps"`
}

// Quotas bound what a tenant may use. Zero values mean the server's
// defaults.
type Quotas struct {
	// MaxApps is how many apps the tenant may have.
	MaxApps int `json:"max_apps,omitempty"`
	// MaxInstanceMemory is the linear memory limit of every instance of the
	// tenant's apps, in bytes.
	MaxInstanceMemory uint64 `json:"max_instance_memory,omitempty"`
	// MaxConcurrency is how many requests one app of the tenant may run at
	// once; more get 429.
	MaxConcurrency int `json:"max_concurrency,omitempty"`
	// MaxTenantConcurrency is how many requests all the tenant's apps
	// together may run at once; more get 429. It bounds the CPU one
	// tenant can take from the others.
	MaxTenantConcurrency int `json:"max_tenant_concurrency,omitempty"`
}

// CreateTenantRequest is the body of POST /v1/tenants.
type CreateTenantRequest struct {
	Name   string `json:"name"`
	Admin  bool   `json:"admin,omitempty"`
	Quotas Quotas `json:"quotas,omitempty"`
}

// Token is a newly issued API token. Secret is shown exactly once: the
// server keeps only its SHA-256.
type Token struct {
	ID      string    `json:"id"`
	Tenant  string    `json:"tenant"`
	Secret  string    `json:"secret,omitempty"`
	Created time.Time `json:"created"`
}

// CreateTenantResponse is the answer to POST /v1/tenants.
type CreateTenantResponse struct {
	Tenant Tenant `json:"tenant"`
	Token  Token  `json:"token"`
}

// WhoAmI is the answer to GET /v1/whoami.
type WhoAmI struct {
	Tenant  Tenant `json:"tenant"`
	TokenID string `json:"token_id"`
}

// App describes a deployed app.
type App struct {
	Name   string `json:"name"`
	Tenant string `json:"tenant"`
	// URL is where the app answers (http://<name>.<domain>[:port]/).
	URL string `json:"url"`
	// Hostnames are the custom domains routed to the app, besides
	// <name>.<domain>.
	Hostnames []string `json:"hostnames,omitempty"`
	// Current is the revision being served.
	Current   int        `json:"current"`
	Revisions []Revision `json:"revisions,omitempty"`
	// Routes are the current revision's HTTP routes.
	Routes []string `json:"routes,omitempty"`
	// Loaded reports whether the app is in memory now (scale to zero:
	// idle apps are not).
	Loaded bool `json:"loaded"`
}

// Revision is one deployed version of an app.
type Revision struct {
	Number int `json:"number"`
	// Digest is the sha256 of the bundle's bundle.json, which names every
	// blob by digest.
	Digest   string    `json:"digest"`
	Created  time.Time `json:"created"`
	Metadata string    `json:"metadata,omitempty"` // "<app name> <version>" from spin.toml
}

// DeployOptions are the query parameters of PUT /v1/apps/{app}.
type DeployOptions struct {
	// Hostnames replace the app's custom domains; nil keeps them.
	Hostnames []string
}

// DeployReferenceRequest is the JSON body of PUT /v1/apps/{app} that
// deploys an app the server pulls from an OCI registry (Spin's artifact
// format). The server pulls only from registries its operator allows.
type DeployReferenceRequest struct {
	Reference string            `json:"reference"`
	Variables map[string]string `json:"variables,omitempty"`
}

// RollbackRequest is the body of POST /v1/apps/{app}/rollback.
type RollbackRequest struct {
	// Revision to serve; 0 means the one before the current.
	Revision int `json:"revision,omitempty"`
}
