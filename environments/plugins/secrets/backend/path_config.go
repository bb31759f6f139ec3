package backend

import (
	"context"
	"fmt"

	"github.com/hashicorp/vault/sdk/framework"
	"github.com/hashicorp/vault/sdk/logical"
)

const configKey = "config"

type engineConfig struct {
	UsernamePrefix string `json:"username_prefix"`
	PasswordLength int    `json:"password_length"`
}

func defaultConfig() *engineConfig {
	return &engineConfig{UsernamePrefix: "lab", PasswordLength: 24}
}

func pathConfig(b *Backend) *framework.Path {
	return &framework.Path{
		Pattern: "config$",
		Fields: map[string]*framework.FieldSchema{
			"username_prefix": {Type: framework.TypeString, Description: "Prefix of every issued username.", Default: "lab"},
			"password_length": {Type: framework.TypeInt, Description: "Length of issued passwords (16-64).", Default: 24},
		},
		ExistenceCheck: b.configExists,
		Operations: map[logical.Operation]framework.OperationHandler{
			logical.ReadOperation:   &framework.PathOperation{Callback: b.readConfig, Summary: "Read the engine configuration."},
			logical.CreateOperation: &framework.PathOperation{Callback: b.writeConfig, Summary: "Configure the engine."},
			logical.UpdateOperation: &framework.PathOperation{Callback: b.writeConfig, Summary: "Configure the engine."},
			logical.DeleteOperation: &framework.PathOperation{Callback: b.deleteConfig, Summary: "Reset the configuration to defaults."},
		},
		HelpSynopsis:    "Engine-wide settings for issued credentials.",
		HelpDescription: "username_prefix starts every issued username; password_length sets the password size.",
	}
}

func (b *Backend) config(ctx context.Context, s logical.Storage) (*engineConfig, error) {
	entry, err := s.Get(ctx, configKey)
	if err != nil {
		return nil, err
	}
	cfg := defaultConfig()
	if entry == nil {
		return cfg, nil
	}
	if err := entry.DecodeJSON(cfg); err != nil {
		return nil, err
	}
	return cfg, nil
}

func (b *Backend) configExists(ctx context.Context, req *logical.Request, _ *framework.FieldData) (bool, error) {
	entry, err := req.Storage.Get(ctx, configKey)
	return entry != nil, err
}

func (b *Backend) readConfig(ctx context.Context, req *logical.Request, _ *framework.FieldData) (*logical.Response, error) {
	cfg, err := b.config(ctx, req.Storage)
	if err != nil {
		return nil, err
	}
	return &logical.Response{Data: map[string]interface{}{
		"username_prefix": cfg.UsernamePrefix,
		"password_length": cfg.PasswordLength,
	}}, nil
}

func (b *Backend) writeConfig(ctx context.Context, req *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	cfg, err := b.config(ctx, req.Storage)
	if err != nil {
		return nil, err
	}
	if v, ok := d.GetOk("username_prefix"); ok {
		cfg.UsernamePrefix = v.(string)
	}
	if v, ok := d.GetOk("password_length"); ok {
		cfg.PasswordLength = v.(int)
	}
	if cfg.PasswordLength < 16 || cfg.PasswordLength > 64 {
		return logical.ErrorResponse(fmt.Sprintf("password_length must be between 16 and 64, got %d", cfg.PasswordLength)), nil
	}
	entry, err := logical.StorageEntryJSON(configKey, cfg)
	if err != nil {
		return nil, err
	}
	return nil, req.Storage.Put(ctx, entry)
}

func (b *Backend) deleteConfig(ctx context.Context, req *logical.Request, _ *framework.FieldData) (*logical.Response, error) {
	return nil, req.Storage.Delete(ctx, configKey)
}
