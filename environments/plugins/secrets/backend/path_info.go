package backend

import (
	"context"

	"github.com/hashicorp/vault/sdk/framework"
	"github.com/hashicorp/vault/sdk/logical"
)

func pathInfo(b *Backend) *framework.Path {
	return &framework.Path{
		Pattern: "info$",
		Operations: map[logical.Operation]framework.OperationHandler{
			logical.ReadOperation: &framework.PathOperation{
				Callback: b.readInfo,
				Summary:  "Name and version of the running plugin.",
			},
		},
		HelpSynopsis:    "Name and version of the running plugin.",
		HelpDescription: "Reads need no storage: a cheap path to check which plugin version serves a mount.",
	}
}

func (b *Backend) readInfo(_ context.Context, _ *logical.Request, _ *framework.FieldData) (*logical.Response, error) {
	return &logical.Response{Data: map[string]interface{}{
		"name":    PluginName,
		"version": b.version,
	}}, nil
}
