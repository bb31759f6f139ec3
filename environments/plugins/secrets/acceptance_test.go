package main

import (
	"os"
	"strings"
	"testing"

	"github.com/hashicorp/vault/api"
)

// Acceptance tests: against a live server named by VAULT_ADDR and VAULT_TOKEN,
// with the plugin enabled at PLUGIN_MOUNT (default "example-secrets").
// They run only when VAULT_ACC=1.

func accClient(t *testing.T) (*api.Client, string) {
	t.Helper()
	if os.Getenv("VAULT_ACC") != "1" {
		t.Skip("acceptance test: set VAULT_ACC=1, VAULT_ADDR and VAULT_TOKEN to run it against a server")
	}
	client, err := api.NewClient(api.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	mount := os.Getenv("PLUGIN_MOUNT")
	if mount == "" {
		mount = "example-secrets"
	}
	return client, strings.Trim(mount, "/")
}

func TestAccInfo(t *testing.T) {
	client, mount := accClient(t)
	secret, err := client.Logical().Read(mount + "/info")
	if err != nil {
		t.Fatal(err)
	}
	if secret == nil || secret.Data["version"] == "" {
		t.Fatalf("info %v", secret)
	}
	t.Logf("running version %v", secret.Data["version"])
}

func TestAccCredentialLifecycle(t *testing.T) {
	client, mount := accClient(t)
	logical := client.Logical()
	if _, err := logical.Write(mount+"/config", map[string]interface{}{"username_prefix": "acc"}); err != nil {
		t.Fatal(err)
	}
	if _, err := logical.Write(mount+"/roles/acc", map[string]interface{}{"ttl": "120s", "max_ttl": "1h"}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = logical.Delete(mount + "/roles/acc") })

	cred, err := logical.Read(mount + "/creds/acc")
	if err != nil {
		t.Fatal(err)
	}
	if cred.LeaseID == "" || cred.LeaseDuration != 120 || !cred.Renewable {
		t.Fatalf("lease id set=%v duration=%d renewable=%v", cred.LeaseID != "", cred.LeaseDuration, cred.Renewable)
	}
	username := cred.Data["username"].(string)
	if !strings.HasPrefix(username, "acc-acc-") {
		t.Fatalf("username %q", username)
	}
	if !issued(t, client, mount, username) {
		t.Fatal("new credential not listed under issued/")
	}

	renewed, err := client.Sys().Renew(cred.LeaseID, 60)
	if err != nil {
		t.Fatalf("renew: %v", err)
	}
	if renewed.LeaseDuration <= 0 {
		t.Fatalf("renewed lease duration %d", renewed.LeaseDuration)
	}

	if err := client.Sys().Revoke(cred.LeaseID); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	if issued(t, client, mount, username) {
		t.Fatal("credential still listed after its lease was revoked")
	}
}

func issued(t *testing.T, client *api.Client, mount, username string) bool {
	t.Helper()
	list, err := client.Logical().List(mount + "/issued")
	if err != nil {
		t.Fatal(err)
	}
	if list == nil {
		return false
	}
	for _, k := range list.Data["keys"].([]interface{}) {
		if k == username {
			return true
		}
	}
	return false
}
