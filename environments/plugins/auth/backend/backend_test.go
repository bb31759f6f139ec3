package backend

import (
	"context"
	"testing"
	"time"

	"github.com/hashicorp/vault/sdk/logical"
)

// Unit tests: the auth method on in-memory storage, no server.

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

func do(b *Backend, s logical.Storage, op logical.Operation, path string, data map[string]interface{}) (*logical.Response, error) {
	return b.HandleRequest(context.Background(), &logical.Request{Operation: op, Path: path, Storage: s, Data: data, Connection: &logical.Connection{RemoteAddr: "127.0.0.1"}})
}

func addUser(t *testing.T, b *Backend, s logical.Storage) {
	t.Helper()
	resp, err := do(b, s, logical.CreateOperation, "users/alice", map[string]interface{}{
		"api_key": "k-123456", "policies": "reader,writer", "metadata": []string{"team=blue"}, "ttl": "60s", "max_ttl": "1h",
	})
	if err != nil || (resp != nil && resp.IsError()) {
		t.Fatalf("create user: %v %v", resp, err)
	}
}

func TestLoginGivesPoliciesMetadataAlias(t *testing.T) {
	b, s := newTestBackend(t)
	addUser(t, b, s)
	resp, err := do(b, s, logical.UpdateOperation, "login", map[string]interface{}{"username": "alice", "api_key": "k-123456"})
	if err != nil || resp == nil || resp.Auth == nil {
		t.Fatalf("login: %v %v", resp, err)
	}
	a := resp.Auth
	if len(a.Policies) != 2 || a.Metadata["team"] != "blue" || a.Metadata["username"] != "alice" {
		t.Fatalf("auth %#v", a)
	}
	if a.Alias == nil || a.Alias.Name != "alice" || !a.Renewable || a.TTL != time.Minute {
		t.Fatalf("alias/lease %#v", a)
	}
}

func TestLoginRefusesWrongKeyAndUnknownUser(t *testing.T) {
	b, s := newTestBackend(t)
	addUser(t, b, s)
	for _, data := range []map[string]interface{}{
		{"username": "alice", "api_key": "wrong"},
		{"username": "bob", "api_key": "k-123456"},
	} {
		if _, err := do(b, s, logical.UpdateOperation, "login", data); err != logical.ErrPermissionDenied {
			t.Fatalf("login %v: want permission denied, got %v", data, err)
		}
	}
}

func TestAliasLookahead(t *testing.T) {
	b, s := newTestBackend(t)
	resp, err := do(b, s, logical.AliasLookaheadOperation, "login", map[string]interface{}{"username": "alice"})
	if err != nil || resp.Auth.Alias.Name != "alice" {
		t.Fatalf("lookahead %v %v", resp, err)
	}
}

func TestRenewFollowsUser(t *testing.T) {
	b, s := newTestBackend(t)
	addUser(t, b, s)
	resp, _ := do(b, s, logical.UpdateOperation, "login", map[string]interface{}{"username": "alice", "api_key": "k-123456"})
	auth := resp.Auth
	renew := func() (*logical.Response, error) {
		return b.HandleRequest(context.Background(), &logical.Request{Operation: logical.RenewOperation, Path: "login", Storage: s, Auth: auth})
	}
	if r, err := renew(); err != nil || r.Auth.TTL != time.Minute {
		t.Fatalf("renew: %v %v", r, err)
	}
	if _, err := do(b, s, logical.UpdateOperation, "users/alice", map[string]interface{}{"api_key": "rotated"}); err != nil {
		t.Fatal(err)
	}
	if _, err := renew(); err == nil {
		t.Fatal("renew after key rotation should fail")
	}
}

func TestUserReadHidesKey(t *testing.T) {
	b, s := newTestBackend(t)
	addUser(t, b, s)
	resp, err := do(b, s, logical.ReadOperation, "users/alice", nil)
	if err != nil || resp == nil {
		t.Fatal(err)
	}
	if _, ok := resp.Data["api_key"]; ok {
		t.Fatal("read returned the API key")
	}
	if _, ok := resp.Data["key_hash"]; ok {
		t.Fatal("read returned the key hash")
	}
}
