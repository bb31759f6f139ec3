// Package backend holds the example-auth method: users with API keys, login,
// token renewal, entity aliases and metadata.
package backend

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/hashicorp/vault/sdk/framework"
	"github.com/hashicorp/vault/sdk/logical"
)

// PluginName is the catalog name the lab registers this plugin under.
const PluginName = "example-auth"

const userPrefix = "users/"

// Backend is the auth method.
type Backend struct {
	*framework.Backend
	version string
}

type user struct {
	KeyHash  string            `json:"key_hash"`
	Policies []string          `json:"policies"`
	Metadata map[string]string `json:"metadata"`
	TTL      time.Duration     `json:"ttl"`
	MaxTTL   time.Duration     `json:"max_ttl"`
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

// New builds the auth method without storage (Setup gives it one).
func New(version string) *Backend {
	b := &Backend{version: version}
	b.Backend = &framework.Backend{
		Help:           backendHelp,
		BackendType:    logical.TypeCredential,
		RunningVersion: version,
		PathsSpecial: &logical.Paths{
			Unauthenticated: []string{"login"},
		},
		Paths:     []*framework.Path{pathInfo(b), pathLogin(b), pathUsersList(b), pathUsers(b)},
		AuthRenew: b.renew,
	}
	return b
}

const backendHelp = `
The example-auth method logs users in with an API key.

Write users under "users/<name>" with an api_key, policies, metadata and
token ttls; a user then logs in at "login" with username and api_key. The
token carries the user's policies and metadata, an entity alias named after
the user, and renews until max_ttl while the user and key are unchanged.
`

func hashKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

func (b *Backend) user(ctx context.Context, s logical.Storage, name string) (*user, error) {
	entry, err := s.Get(ctx, userPrefix+name)
	if err != nil || entry == nil {
		return nil, err
	}
	u := &user{}
	if err := entry.DecodeJSON(u); err != nil {
		return nil, err
	}
	return u, nil
}

func pathInfo(b *Backend) *framework.Path {
	return &framework.Path{
		Pattern: "info$",
		Operations: map[logical.Operation]framework.OperationHandler{
			logical.ReadOperation: &framework.PathOperation{Callback: func(context.Context, *logical.Request, *framework.FieldData) (*logical.Response, error) {
				return &logical.Response{Data: map[string]interface{}{"name": PluginName, "version": b.version}}, nil
			}, Summary: "Name and version of the running plugin."},
		},
		HelpSynopsis: "Name and version of the running plugin.",
	}
}

func pathLogin(b *Backend) *framework.Path {
	return &framework.Path{
		Pattern: "login$",
		Fields: map[string]*framework.FieldSchema{
			"username": {Type: framework.TypeLowerCaseString, Description: "User to log in as.", Required: true},
			"api_key":  {Type: framework.TypeString, Description: "The user's API key.", Required: true, DisplayAttrs: &framework.DisplayAttributes{Sensitive: true}},
		},
		Operations: map[logical.Operation]framework.OperationHandler{
			logical.UpdateOperation:         &framework.PathOperation{Callback: b.login, Summary: "Log in with username and api_key."},
			logical.AliasLookaheadOperation: &framework.PathOperation{Callback: b.aliasLookahead},
		},
		HelpSynopsis:    "Log in with a username and API key.",
		HelpDescription: "Returns a token with the user's policies and metadata, renewable up to max_ttl.",
	}
}

func (b *Backend) aliasLookahead(_ context.Context, _ *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	username := d.Get("username").(string)
	if username == "" {
		return nil, logical.ErrInvalidRequest
	}
	return &logical.Response{Auth: &logical.Auth{Alias: &logical.Alias{Name: username}}}, nil
}

func (b *Backend) login(ctx context.Context, req *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	username := d.Get("username").(string)
	key := d.Get("api_key").(string)
	if username == "" || key == "" {
		return logical.ErrorResponse("username and api_key are required"), nil
	}
	u, err := b.user(ctx, req.Storage, username)
	if err != nil {
		return nil, err
	}
	if u == nil || subtle.ConstantTimeCompare([]byte(u.KeyHash), []byte(hashKey(key))) != 1 {
		return nil, logical.ErrPermissionDenied
	}
	metadata := map[string]string{"username": username}
	for k, v := range u.Metadata {
		metadata[k] = v
	}
	return &logical.Response{Auth: &logical.Auth{
		InternalData: map[string]interface{}{"username": username, "key_hash": u.KeyHash},
		Policies:     u.Policies,
		Metadata:     metadata,
		DisplayName:  username,
		LeaseOptions: logical.LeaseOptions{TTL: u.TTL, MaxTTL: u.MaxTTL, Renewable: true},
		Alias:        &logical.Alias{Name: username, Metadata: metadata},
	}}, nil
}

func (b *Backend) renew(ctx context.Context, req *logical.Request, _ *framework.FieldData) (*logical.Response, error) {
	username, _ := req.Auth.InternalData["username"].(string)
	u, err := b.user(ctx, req.Storage, username)
	if err != nil {
		return nil, err
	}
	if u == nil {
		return nil, fmt.Errorf("user %q no longer exists", username)
	}
	if req.Auth.InternalData["key_hash"] != u.KeyHash {
		return nil, fmt.Errorf("the API key of %q changed since login", username)
	}
	resp := &logical.Response{Auth: req.Auth}
	resp.Auth.TTL = u.TTL
	resp.Auth.MaxTTL = u.MaxTTL
	resp.Auth.Policies = u.Policies
	return resp, nil
}

func pathUsersList(b *Backend) *framework.Path {
	return &framework.Path{
		Pattern: "users/?$",
		Operations: map[logical.Operation]framework.OperationHandler{
			logical.ListOperation: &framework.PathOperation{Callback: func(ctx context.Context, req *logical.Request, _ *framework.FieldData) (*logical.Response, error) {
				names, err := req.Storage.List(ctx, userPrefix)
				if err != nil {
					return nil, err
				}
				return logical.ListResponse(names), nil
			}, Summary: "List users."},
		},
		HelpSynopsis: "List users.",
	}
}

func pathUsers(b *Backend) *framework.Path {
	return &framework.Path{
		Pattern: "users/" + framework.GenericNameRegex("name"),
		Fields: map[string]*framework.FieldSchema{
			"name":     {Type: framework.TypeLowerCaseString, Description: "User name.", Required: true},
			"api_key":  {Type: framework.TypeString, Description: "API key (stored as a SHA-256 hash).", DisplayAttrs: &framework.DisplayAttributes{Sensitive: true}},
			"policies": {Type: framework.TypeCommaStringSlice, Description: "Policies of the user's tokens."},
			"metadata": {Type: framework.TypeKVPairs, Description: "Metadata put on tokens and the entity alias."},
			"ttl":      {Type: framework.TypeDurationSecond, Description: "Token TTL.", Default: 3600},
			"max_ttl":  {Type: framework.TypeDurationSecond, Description: "Longest a token renews to.", Default: 86400},
		},
		ExistenceCheck: func(ctx context.Context, req *logical.Request, d *framework.FieldData) (bool, error) {
			u, err := b.user(ctx, req.Storage, d.Get("name").(string))
			return u != nil, err
		},
		Operations: map[logical.Operation]framework.OperationHandler{
			logical.ReadOperation:   &framework.PathOperation{Callback: b.readUser, Summary: "Read a user (never its key)."},
			logical.CreateOperation: &framework.PathOperation{Callback: b.writeUser, Summary: "Create a user."},
			logical.UpdateOperation: &framework.PathOperation{Callback: b.writeUser, Summary: "Update a user."},
			logical.DeleteOperation: &framework.PathOperation{Callback: func(ctx context.Context, req *logical.Request, d *framework.FieldData) (*logical.Response, error) {
				return nil, req.Storage.Delete(ctx, userPrefix+d.Get("name").(string))
			}, Summary: "Delete a user; their tokens stop renewing."},
		},
		HelpSynopsis:    "Manage users who log in with an API key.",
		HelpDescription: "api_key is stored hashed; policies, metadata and ttls shape the tokens issued at login.",
	}
}

func (b *Backend) readUser(ctx context.Context, req *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	u, err := b.user(ctx, req.Storage, d.Get("name").(string))
	if err != nil || u == nil {
		return nil, err
	}
	return &logical.Response{Data: map[string]interface{}{
		"policies": u.Policies, "metadata": u.Metadata,
		"ttl": int64(u.TTL.Seconds()), "max_ttl": int64(u.MaxTTL.Seconds()),
	}}, nil
}

func (b *Backend) writeUser(ctx context.Context, req *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	name := d.Get("name").(string)
	u, err := b.user(ctx, req.Storage, name)
	if err != nil {
		return nil, err
	}
	if u == nil {
		if _, ok := d.GetOk("api_key"); !ok {
			return logical.ErrorResponse("api_key is required for a new user"), nil
		}
		u = &user{TTL: time.Duration(d.Get("ttl").(int)) * time.Second, MaxTTL: time.Duration(d.Get("max_ttl").(int)) * time.Second}
	}
	if v, ok := d.GetOk("api_key"); ok {
		u.KeyHash = hashKey(v.(string))
	}
	if v, ok := d.GetOk("policies"); ok {
		u.Policies = v.([]string)
	}
	if v, ok := d.GetOk("metadata"); ok {
		u.Metadata = v.(map[string]string)
	}
	if v, ok := d.GetOk("ttl"); ok {
		u.TTL = time.Duration(v.(int)) * time.Second
	}
	if v, ok := d.GetOk("max_ttl"); ok {
		u.MaxTTL = time.Duration(v.(int)) * time.Second
	}
	if u.MaxTTL > 0 && u.TTL > u.MaxTTL {
		return logical.ErrorResponse("ttl cannot be greater than max_ttl"), nil
	}
	entry, err := logical.StorageEntryJSON(userPrefix+name, u)
	if err != nil {
		return nil, err
	}
	return nil, req.Storage.Put(ctx, entry)
}
