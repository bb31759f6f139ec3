package backend

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math/big"
	"time"

	"github.com/hashicorp/vault/sdk/framework"
	"github.com/hashicorp/vault/sdk/logical"
)

const (
	secretType   = "example_credential"
	issuedPrefix = "issued/"
	alphabet     = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
)

type issued struct {
	Role     string    `json:"role"`
	IssuedAt time.Time `json:"issued_at"`
}

func pathCreds(b *Backend) *framework.Path {
	return &framework.Path{
		Pattern: "creds/" + framework.GenericNameRegex("name"),
		Fields: map[string]*framework.FieldSchema{
			"name": {Type: framework.TypeLowerCaseString, Description: "Role to issue a credential for.", Required: true},
		},
		Operations: map[logical.Operation]framework.OperationHandler{
			logical.ReadOperation: &framework.PathOperation{Callback: b.issueCredential, Summary: "Issue a credential under a lease."},
		},
		HelpSynopsis:    "Issue a credential for a role.",
		HelpDescription: "Each read returns a new username and password under a lease with the role's ttl.",
	}
}

func pathIssued(b *Backend) *framework.Path {
	return &framework.Path{
		Pattern: "issued/?$",
		Operations: map[logical.Operation]framework.OperationHandler{
			logical.ListOperation: &framework.PathOperation{Callback: b.listIssued, Summary: "List live credentials."},
		},
		HelpSynopsis:    "Usernames of the credentials whose leases are alive.",
		HelpDescription: "A revoked or expired lease removes its username from this list.",
	}
}

func secretCredential(b *Backend) *framework.Secret {
	return &framework.Secret{
		Type: secretType,
		Fields: map[string]*framework.FieldSchema{
			"username": {Type: framework.TypeString, Description: "Issued username."},
			"password": {Type: framework.TypeString, Description: "Issued password."},
		},
		Renew:  b.renewCredential,
		Revoke: b.revokeCredential,
	}
}

func randomString(n int) (string, error) {
	out := make([]byte, n)
	max := big.NewInt(int64(len(alphabet)))
	for i := range out {
		k, err := rand.Int(rand.Reader, max)
		if err != nil {
			return "", err
		}
		out[i] = alphabet[k.Int64()]
	}
	return string(out), nil
}

func (b *Backend) issueCredential(ctx context.Context, req *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	roleName := d.Get("name").(string)
	r, err := b.role(ctx, req.Storage, roleName)
	if err != nil {
		return nil, err
	}
	if r == nil {
		return logical.ErrorResponse(fmt.Sprintf("role %q does not exist; write roles/%s first", roleName, roleName)), nil
	}
	cfg, err := b.config(ctx, req.Storage)
	if err != nil {
		return nil, err
	}
	suffix := make([]byte, 4)
	if _, err := rand.Read(suffix); err != nil {
		return nil, err
	}
	username := fmt.Sprintf("%s-%s-%s", cfg.UsernamePrefix, roleName, hex.EncodeToString(suffix))
	password, err := randomString(cfg.PasswordLength)
	if err != nil {
		return nil, err
	}
	entry, err := logical.StorageEntryJSON(issuedPrefix+username, &issued{Role: roleName, IssuedAt: time.Now().UTC()})
	if err != nil {
		return nil, err
	}
	if err := req.Storage.Put(ctx, entry); err != nil {
		return nil, err
	}
	resp := b.Secret(secretType).Response(map[string]interface{}{
		"username": username,
		"password": password,
		// labkit:extra-response-fields
	}, map[string]interface{}{
		"username": username,
		"role":     roleName,
	})
	resp.Secret.TTL = r.TTL
	resp.Secret.MaxTTL = r.MaxTTL
	return resp, nil
}

func (b *Backend) renewCredential(ctx context.Context, req *logical.Request, _ *framework.FieldData) (*logical.Response, error) {
	roleName, _ := req.Secret.InternalData["role"].(string)
	r, err := b.role(ctx, req.Storage, roleName)
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, fmt.Errorf("role %q was deleted; the credential cannot be renewed", roleName)
	}
	resp := &logical.Response{Secret: req.Secret}
	resp.Secret.TTL = r.TTL
	resp.Secret.MaxTTL = r.MaxTTL
	return resp, nil
}

func (b *Backend) revokeCredential(ctx context.Context, req *logical.Request, _ *framework.FieldData) (*logical.Response, error) {
	username, ok := req.Secret.InternalData["username"].(string)
	if !ok {
		return nil, fmt.Errorf("lease holds no username")
	}
	b.Logger().Info("credential revoked", "username", username)
	return nil, req.Storage.Delete(ctx, issuedPrefix+username)
}

func (b *Backend) listIssued(ctx context.Context, req *logical.Request, _ *framework.FieldData) (*logical.Response, error) {
	names, err := req.Storage.List(ctx, issuedPrefix)
	if err != nil {
		return nil, err
	}
	return logical.ListResponse(names), nil
}
