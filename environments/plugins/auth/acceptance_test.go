package main

import (
	"os"
	"strings"
	"testing"

	"github.com/hashicorp/vault/api"
)

// Acceptance tests: against a live server named by VAULT_ADDR and VAULT_TOKEN,
// with the auth method enabled at auth/PLUGIN_MOUNT (default "example-auth").
// They run only when VAULT_ACC=1.

func TestAccLoginRenewAlias(t *testing.T) {
	if os.Getenv("VAULT_ACC") != "1" {
		t.Skip("acceptance test: set VAULT_ACC=1, VAULT_ADDR and VAULT_TOKEN to run it against a server")
	}
	client, err := api.NewClient(api.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	mount := strings.Trim(os.Getenv("PLUGIN_MOUNT"), "/")
	if mount == "" {
		mount = "example-auth"
	}
	base := "auth/" + mount
	if _, err := client.Logical().Write(base+"/users/acc", map[string]interface{}{
		"api_key": "acc-key-0123456789", "policies": "default", "metadata": "org=acme", "ttl": "120s", "max_ttl": "1h",
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = client.Logical().Delete(base + "/users/acc") })

	login, err := client.Logical().Write(base+"/login", map[string]interface{}{"username": "acc", "api_key": "acc-key-0123456789"})
	if err != nil {
		t.Fatal(err)
	}
	if login.Auth == nil || login.Auth.ClientToken == "" || !login.Auth.Renewable || login.Auth.Metadata["org"] != "acme" {
		t.Fatalf("login auth: renewable=%v metadata=%v", login.Auth != nil && login.Auth.Renewable, login.Auth.Metadata)
	}
	user, err := api.NewClient(client.CloneConfig())
	if err != nil {
		t.Fatal(err)
	}
	user.SetToken(login.Auth.ClientToken)
	t.Cleanup(func() { _ = client.Auth().Token().RevokeTree(login.Auth.ClientToken) })

	self, err := user.Auth().Token().LookupSelf()
	if err != nil {
		t.Fatal(err)
	}
	meta, _ := self.Data["meta"].(map[string]interface{})
	if meta["username"] != "acc" || self.Data["entity_id"] == "" {
		t.Fatalf("token meta %v entity %v", meta, self.Data["entity_id"])
	}
	if _, err := user.Auth().Token().RenewSelf(60); err != nil {
		t.Fatalf("renew-self: %v", err)
	}
	entity, err := client.Logical().Read("identity/entity/id/" + self.Data["entity_id"].(string))
	if err != nil || entity == nil {
		t.Fatalf("entity: %v", err)
	}
	aliases, _ := entity.Data["aliases"].([]interface{})
	found := false
	for _, a := range aliases {
		if a.(map[string]interface{})["name"] == "acc" {
			found = true
		}
	}
	if !found {
		t.Fatalf("no entity alias named acc in %v", aliases)
	}
}
