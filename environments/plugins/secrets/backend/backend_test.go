package backend

import (
	"context"
	"testing"
	"time"

	"github.com/hashicorp/vault/sdk/logical"
)

// Unit tests: the engine on in-memory storage, no server.

func newTestBackend(t *testing.T) (*Backend, logical.Storage) {
	t.Helper()
	conf := logical.TestBackendConfig()
	conf.StorageView = &logical.InmemStorage{}
	b := New("v0.0.0-test")
	if err := b.Setup(context.Background(), conf); err != nil {
		t.Fatal(err)
	}
	return b, conf.StorageView
}

func call(t *testing.T, b *Backend, s logical.Storage, op logical.Operation, path string, data map[string]interface{}) *logical.Response {
	t.Helper()
	resp, err := b.HandleRequest(context.Background(), &logical.Request{Operation: op, Path: path, Storage: s, Data: data})
	if err != nil {
		t.Fatalf("%s %s: %v", op, path, err)
	}
	if resp != nil && resp.IsError() {
		t.Fatalf("%s %s: %v", op, path, resp.Error())
	}
	return resp
}

func TestInfoReportsVersion(t *testing.T) {
	b, s := newTestBackend(t)
	resp := call(t, b, s, logical.ReadOperation, "info", nil)
	if resp.Data["version"] != "v0.0.0-test" || resp.Data["name"] != PluginName {
		t.Fatalf("unexpected info %v", resp.Data)
	}
}

func TestConfigDefaultsAndValidation(t *testing.T) {
	b, s := newTestBackend(t)
	resp := call(t, b, s, logical.ReadOperation, "config", nil)
	if resp.Data["username_prefix"] != "lab" || resp.Data["password_length"] != 24 {
		t.Fatalf("defaults %v", resp.Data)
	}
	call(t, b, s, logical.UpdateOperation, "config", map[string]interface{}{"username_prefix": "acme", "password_length": 32})
	resp = call(t, b, s, logical.ReadOperation, "config", nil)
	if resp.Data["username_prefix"] != "acme" || resp.Data["password_length"] != 32 {
		t.Fatalf("config %v", resp.Data)
	}
	bad, err := b.HandleRequest(context.Background(), &logical.Request{
		Operation: logical.UpdateOperation, Path: "config", Storage: s,
		Data: map[string]interface{}{"password_length": 4},
	})
	if err != nil || bad == nil || !bad.IsError() {
		t.Fatalf("password_length 4 should be refused, got %v %v", bad, err)
	}
}

func TestRolesCRUD(t *testing.T) {
	b, s := newTestBackend(t)
	call(t, b, s, logical.CreateOperation, "roles/app", map[string]interface{}{"ttl": "60s", "max_ttl": "1h", "description": "the app"})
	resp := call(t, b, s, logical.ReadOperation, "roles/app", nil)
	if resp.Data["ttl"] != int64(60) || resp.Data["max_ttl"] != int64(3600) {
		t.Fatalf("role %v", resp.Data)
	}
	resp = call(t, b, s, logical.ListOperation, "roles/", nil)
	if keys := resp.Data["keys"].([]string); len(keys) != 1 || keys[0] != "app" {
		t.Fatalf("list %v", resp.Data)
	}
	bad, _ := b.HandleRequest(context.Background(), &logical.Request{
		Operation: logical.UpdateOperation, Path: "roles/app", Storage: s,
		Data: map[string]interface{}{"ttl": "2h"},
	})
	if bad == nil || !bad.IsError() {
		t.Fatal("ttl above max_ttl should be refused")
	}
	call(t, b, s, logical.DeleteOperation, "roles/app", nil)
	if resp := call(t, b, s, logical.ReadOperation, "roles/app", nil); resp != nil {
		t.Fatalf("role still there: %v", resp.Data)
	}
}

func TestCredentialLeaseRenewRevoke(t *testing.T) {
	b, s := newTestBackend(t)
	call(t, b, s, logical.UpdateOperation, "config", map[string]interface{}{"username_prefix": "acme"})
	call(t, b, s, logical.CreateOperation, "roles/app", map[string]interface{}{"ttl": "60s", "max_ttl": "1h"})

	resp := call(t, b, s, logical.ReadOperation, "creds/app", nil)
	if resp.Secret == nil || resp.Secret.TTL != time.Minute || resp.Secret.MaxTTL != time.Hour {
		t.Fatalf("lease %#v", resp.Secret)
	}
	username := resp.Data["username"].(string)
	if len(resp.Data["password"].(string)) != 24 || username[:9] != "acme-app-" {
		t.Fatalf("credential %v", resp.Data)
	}
	issued := call(t, b, s, logical.ListOperation, "issued/", nil).Data["keys"].([]string)
	if len(issued) != 1 || issued[0] != username {
		t.Fatalf("issued %v", issued)
	}

	secret := resp.Secret
	secret.InternalData["secret_type"] = secretType
	renewResp, err := b.HandleRequest(context.Background(), &logical.Request{Operation: logical.RenewOperation, Storage: s, Secret: secret})
	if err != nil || renewResp == nil || renewResp.Secret.TTL != time.Minute {
		t.Fatalf("renew %v %v", renewResp, err)
	}

	if _, err := b.HandleRequest(context.Background(), &logical.Request{Operation: logical.RevokeOperation, Storage: s, Secret: secret}); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	if resp := call(t, b, s, logical.ListOperation, "issued/", nil); resp.Data["keys"] != nil {
		t.Fatalf("still issued after revoke: %v", resp.Data)
	}
}

func TestRenewFailsWhenRoleDeleted(t *testing.T) {
	b, s := newTestBackend(t)
	call(t, b, s, logical.CreateOperation, "roles/app", map[string]interface{}{"ttl": "60s"})
	secret := call(t, b, s, logical.ReadOperation, "creds/app", nil).Secret
	secret.InternalData["secret_type"] = secretType
	call(t, b, s, logical.DeleteOperation, "roles/app", nil)
	if _, err := b.HandleRequest(context.Background(), &logical.Request{Operation: logical.RenewOperation, Storage: s, Secret: secret}); err == nil {
		t.Fatal("renew of a credential whose role is gone should fail")
	}
}

func TestCredsForUnknownRole(t *testing.T) {
	b, s := newTestBackend(t)
	resp, err := b.HandleRequest(context.Background(), &logical.Request{Operation: logical.ReadOperation, Path: "creds/nope", Storage: s})
	if err != nil || resp == nil || !resp.IsError() {
		t.Fatalf("want an error response, got %v %v", resp, err)
	}
}

func TestHelpText(t *testing.T) {
	b, s := newTestBackend(t)
	resp, err := b.HandleRequest(context.Background(), &logical.Request{Operation: logical.HelpOperation, Path: "roles/app", Storage: s})
	if err != nil || resp == nil || resp.Data["help"] == "" {
		t.Fatalf("help %v %v", resp, err)
	}
}
