// Command example-secrets is a Vault/OpenBao secrets engine plugin: it issues
// short-lived credentials for roles, each under a lease that renews and revokes.
package main

import (
	"os"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/vault/api"
	"github.com/hashicorp/vault/sdk/plugin"

	"example.com/labkit/example-secrets/backend"
)

// Version is what the plugin reports to the server; the build sets it with
// -ldflags "-X main.Version=v0.2.0" so it matches the catalog registration.
var Version = "v0.0.0-dev"

func main() {
	meta := &api.PluginAPIClientMeta{}
	flags := meta.FlagSet()
	if err := flags.Parse(os.Args[1:]); err != nil {
		fatal(err)
	}
	if err := plugin.Serve(&plugin.ServeOpts{
		BackendFactoryFunc: backend.Factory(Version),
		TLSProviderFunc:    api.VaultPluginTLSProvider(meta.GetTLSConfig()),
	}); err != nil {
		fatal(err)
	}
}

func fatal(err error) {
	hclog.New(&hclog.LoggerOptions{}).Error("plugin shutting down", "error", err)
	os.Exit(1)
}
