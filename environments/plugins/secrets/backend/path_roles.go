package backend

import (
	"context"
	"time"

	"github.com/hashicorp/vault/sdk/framework"
	"github.com/hashicorp/vault/sdk/logical"
)

const rolePrefix = "roles/"

type role struct {
	TTL         time.Duration `json:"ttl"`
	MaxTTL      time.Duration `json:"max_ttl"`
	Description string        `json:"description"`
}

func pathRoles(b *Backend) []*framework.Path {
	return []*framework.Path{
		{
			Pattern: "roles/?$",
			Operations: map[logical.Operation]framework.OperationHandler{
				logical.ListOperation: &framework.PathOperation{Callback: b.listRoles, Summary: "List the roles."},
			},
			HelpSynopsis: "List the roles.",
		},
		{
			Pattern: "roles/" + framework.GenericNameRegex("name"),
			Fields: map[string]*framework.FieldSchema{
				"name":        {Type: framework.TypeLowerCaseString, Description: "Name of the role.", Required: true},
				"ttl":         {Type: framework.TypeDurationSecond, Description: "Lease TTL of issued credentials.", Default: 3600},
				"max_ttl":     {Type: framework.TypeDurationSecond, Description: "Longest a credential may be renewed to.", Default: 86400},
				"description": {Type: framework.TypeString, Description: "What the role is for."},
			},
			ExistenceCheck: b.roleExists,
			Operations: map[logical.Operation]framework.OperationHandler{
				logical.ReadOperation:   &framework.PathOperation{Callback: b.readRole, Summary: "Read a role."},
				logical.CreateOperation: &framework.PathOperation{Callback: b.writeRole, Summary: "Create a role."},
				logical.UpdateOperation: &framework.PathOperation{Callback: b.writeRole, Summary: "Update a role."},
				logical.DeleteOperation: &framework.PathOperation{Callback: b.deleteRole, Summary: "Delete a role."},
			},
			HelpSynopsis:    "Manage the roles credentials are issued for.",
			HelpDescription: "A role sets the ttl and max_ttl of the leases its credentials live under.",
		},
	}
}

func (b *Backend) role(ctx context.Context, s logical.Storage, name string) (*role, error) {
	entry, err := s.Get(ctx, rolePrefix+name)
	if err != nil || entry == nil {
		return nil, err
	}
	r := &role{}
	if err := entry.DecodeJSON(r); err != nil {
		return nil, err
	}
	return r, nil
}

func (b *Backend) roleExists(ctx context.Context, req *logical.Request, d *framework.FieldData) (bool, error) {
	r, err := b.role(ctx, req.Storage, d.Get("name").(string))
	return r != nil, err
}

func (b *Backend) listRoles(ctx context.Context, req *logical.Request, _ *framework.FieldData) (*logical.Response, error) {
	names, err := req.Storage.List(ctx, rolePrefix)
	if err != nil {
		return nil, err
	}
	return logical.ListResponse(names), nil
}

func (b *Backend) readRole(ctx context.Context, req *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	r, err := b.role(ctx, req.Storage, d.Get("name").(string))
	if err != nil || r == nil {
		return nil, err
	}
	return &logical.Response{Data: map[string]interface{}{
		"ttl":         int64(r.TTL.Seconds()),
		"max_ttl":     int64(r.MaxTTL.Seconds()),
		"description": r.Description,
	}}, nil
}

func (b *Backend) writeRole(ctx context.Context, req *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	name := d.Get("name").(string)
	r, err := b.role(ctx, req.Storage, name)
	if err != nil {
		return nil, err
	}
	if r == nil {
		r = &role{
			TTL:    time.Duration(d.Get("ttl").(int)) * time.Second,
			MaxTTL: time.Duration(d.Get("max_ttl").(int)) * time.Second,
		}
	}
	if v, ok := d.GetOk("ttl"); ok {
		r.TTL = time.Duration(v.(int)) * time.Second
	}
	if v, ok := d.GetOk("max_ttl"); ok {
		r.MaxTTL = time.Duration(v.(int)) * time.Second
	}
	if v, ok := d.GetOk("description"); ok {
		r.Description = v.(string)
	}
	if r.MaxTTL > 0 && r.TTL > r.MaxTTL {
		return logical.ErrorResponse("ttl cannot be greater than max_ttl"), nil
	}
	entry, err := logical.StorageEntryJSON(rolePrefix+name, r)
	if err != nil {
		return nil, err
	}
	return nil, req.Storage.Put(ctx, entry)
}

func (b *Backend) deleteRole(ctx context.Context, req *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	return nil, req.Storage.Delete(ctx, rolePrefix+d.Get("name").(string))
}
