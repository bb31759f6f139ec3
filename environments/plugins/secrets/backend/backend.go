// Package backend holds the example-secrets engine: a config path, roles, and
// credentials issued under leases that renew and revoke.
package backend

import (
	"context"

	"github.com/hashicorp/vault/sdk/framework"
	"github.com/hashicorp/vault/sdk/logical"
)

// PluginName is the catalog name the lab registers this plugin under.
const PluginName = "example-secrets"

// Backend is the secrets engine.
type Backend struct {
	*framework.Backend
	version string
}

// Factory returns the logical.Factory the plugin server calls for each mount.
func Factory(version string) logical.Factory {
	return func(ctx context.Context, conf *logical.BackendConfig) (logical.Backend, error) {
		b := New(version)
		if err := b.Setup(ctx, conf); err != nil {
			return nil, err
		}
		return b, nil
	}
}

// New builds the engine without storage (Setup gives it one).
func New(version string) *Backend {
	b := &Backend{version: version}
	b.Backend = &framework.Backend{
		Help:           backendHelp,
		BackendType:    logical.TypeLogical,
		RunningVersion: version,
		PathsSpecial: &logical.Paths{
			SealWrapStorage: []string{"config"},
		},
		Paths: framework.PathAppend(
			[]*framework.Path{pathInfo(b), pathConfig(b), pathIssued(b)},
			pathRoles(b),
			[]*framework.Path{pathCreds(b)},
		),
		Secrets: []*framework.Secret{secretCredential(b)},
	}
	return b
}

const backendHelp = `
The example-secrets engine issues short-lived username/password credentials.

Write engine-wide settings to "config", define roles under "roles/<name>"
with a ttl and max_ttl, then read "creds/<name>" for a new credential. Each
credential lives under a lease: renew it to keep it, revoke it (or let it
expire) and the engine forgets it. "issued/" lists the live credentials.
`
