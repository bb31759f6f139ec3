// Command openbao-kms-pkcs11-labkit is the lab's PKCS#11 KMS plugin for OpenBao 2.7+:
// OpenBao starts it (declared by a `plugin "kms" "pkcs11"` stanza) and calls it over
// go-plugin/gRPC to encrypt and decrypt its root key with an AES key that never
// leaves the HSM (CKM_AES_GCM inside the token).
//
// Config (the `seal "pkcs11"` stanza): lib, token_label (or slot), pin, key_label
// (or key_id), mechanism (only CKM_AES_GCM / 0x1087). Errors name the PKCS#11
// return value and what to check, so a sealed server's log says why.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"

	hclog "github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"github.com/miekg/pkcs11"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	metapb "labkit.local/kms-pkcs11/pb/metadata"
	pb "labkit.local/kms-pkcs11/pb/wrapper"
	wrapping "labkit.local/kms-pkcs11/pb/wrapping"
)

const (
	gcmNonceBytes = 12
	gcmTagBits    = 128
)

// handshake is OpenBao's KMS plugin handshake (go-kms-wrapping/plugin/v2).
var handshake = plugin.HandshakeConfig{
	MagicCookieKey:   "OPENBAO_KMS_PLUGIN",
	MagicCookieValue: "39704a18-7da7-4bda-9a2d-f7c488d70328",
}

// hsmKey is one configured wrapper: a logged-in session and the AES key handle.
type hsmKey struct {
	mu      sync.Mutex
	ctx     *pkcs11.Ctx
	session pkcs11.SessionHandle
	key     pkcs11.ObjectHandle
	keyID   string
	token   string
}

func describe(err error, what, fix string) error {
	var p11 pkcs11.Error
	if errors.As(err, &p11) {
		switch p11 {
		case pkcs11.CKR_PIN_INCORRECT:
			fix = "the pin in the seal stanza is wrong for this token"
		case pkcs11.CKR_PIN_LOCKED:
			fix = "the token's user PIN is locked; re-initialise the token"
		case pkcs11.CKR_TOKEN_NOT_PRESENT, pkcs11.CKR_DEVICE_REMOVED:
			fix = "the token is gone; put the HSM back"
		}
	}
	return fmt.Errorf("pkcs11 %s: %v (%s)", what, err, fix)
}

func openKey(cfg map[string]string) (*hsmKey, error) {
	lib := cfg["lib"]
	if lib == "" {
		return nil, errors.New("pkcs11: 'lib' (path of the PKCS#11 library) is required")
	}
	if mech := strings.ToUpper(cfg["mechanism"]); mech != "" && mech != "CKM_AES_GCM" && mech != "0X1087" && mech != "4231" {
		return nil, fmt.Errorf("pkcs11: mechanism %q is not supported by this plugin; use CKM_AES_GCM", cfg["mechanism"])
	}
	if cfg["pin"] == "" {
		return nil, errors.New("pkcs11: 'pin' is required")
	}
	if cfg["key_label"] == "" && cfg["key_id"] == "" {
		return nil, errors.New("pkcs11: 'key_label' or 'key_id' is required")
	}
	ctx := pkcs11.New(lib)
	if ctx == nil {
		return nil, fmt.Errorf("pkcs11: cannot load the library %q (missing file or not a PKCS#11 module)", lib)
	}
	if err := ctx.Initialize(); err != nil && !errors.Is(err, pkcs11.Error(pkcs11.CKR_CRYPTOKI_ALREADY_INITIALIZED)) {
		return nil, describe(err, "initialise "+lib, "check SOFTHSM2_CONF / the library's configuration")
	}
	fail := func(err error) (*hsmKey, error) {
		ctx.Finalize()
		ctx.Destroy()
		return nil, err
	}
	slots, err := ctx.GetSlotList(true)
	if err != nil {
		return fail(describe(err, "list slots", "check the HSM library configuration"))
	}
	var slot uint
	found := false
	for _, s := range slots {
		info, err := ctx.GetTokenInfo(s)
		if err != nil {
			continue
		}
		if label := cfg["token_label"]; label != "" && strings.TrimRight(info.Label, " \x00") == label {
			slot, found = s, true
			break
		}
		if want := cfg["slot"]; want != "" && strconv.FormatUint(uint64(s), 10) == want {
			slot, found = s, true
			break
		}
	}
	if !found {
		return fail(fmt.Errorf("pkcs11: no token labelled %q (slot %q) among %d slots with a token: the HSM token is missing; put it back",
			cfg["token_label"], cfg["slot"], len(slots)))
	}
	session, err := ctx.OpenSession(slot, pkcs11.CKF_SERIAL_SESSION|pkcs11.CKF_RW_SESSION)
	if err != nil {
		return fail(describe(err, "open a session", "check the token"))
	}
	if err := ctx.Login(session, pkcs11.CKU_USER, cfg["pin"]); err != nil && !errors.Is(err, pkcs11.Error(pkcs11.CKR_USER_ALREADY_LOGGED_IN)) {
		return fail(describe(err, fmt.Sprintf("log in to token %q", cfg["token_label"]), "check the pin"))
	}
	template := []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_SECRET_KEY)}
	keyID := cfg["key_label"]
	if keyID != "" {
		template = append(template, pkcs11.NewAttribute(pkcs11.CKA_LABEL, keyID))
	} else {
		raw, err := hex.DecodeString(strings.TrimPrefix(cfg["key_id"], "0x"))
		if err != nil {
			return fail(fmt.Errorf("pkcs11: key_id %q is not hex", cfg["key_id"]))
		}
		keyID = cfg["key_id"]
		template = append(template, pkcs11.NewAttribute(pkcs11.CKA_ID, raw))
	}
	if err := ctx.FindObjectsInit(session, template); err != nil {
		return fail(describe(err, "search keys", "check the token"))
	}
	handles, _, err := ctx.FindObjects(session, 2)
	ctx.FindObjectsFinal(session)
	if err != nil {
		return fail(describe(err, "search keys", "check the token"))
	}
	if len(handles) != 1 {
		return fail(fmt.Errorf("pkcs11: found %d AES keys %q on token %q, want exactly 1: create the key before init",
			len(handles), keyID, cfg["token_label"]))
	}
	return &hsmKey{ctx: ctx, session: session, key: handles[0], keyID: keyID, token: cfg["token_label"]}, nil
}

func (k *hsmKey) encrypt(plaintext, aad []byte) (*wrapping.BlobInfo, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	iv := make([]byte, gcmNonceBytes)
	if _, err := rand.Read(iv); err != nil {
		return nil, err
	}
	params := pkcs11.NewGCMParams(iv, aad, gcmTagBits)
	defer params.Free()
	if err := k.ctx.EncryptInit(k.session, []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_AES_GCM, params)}, k.key); err != nil {
		return nil, describe(err, "encrypt", "is the HSM reachable?")
	}
	ct, err := k.ctx.Encrypt(k.session, plaintext)
	if err != nil {
		return nil, describe(err, "encrypt", "is the HSM reachable?")
	}
	return &wrapping.BlobInfo{Ciphertext: ct, Iv: iv,
		KeyInfo: &wrapping.KeyInfo{Mechanism: pkcs11.CKM_AES_GCM, KeyId: k.keyID}}, nil
}

func (k *hsmKey) decrypt(blob *wrapping.BlobInfo, aad []byte) ([]byte, error) {
	if blob == nil || len(blob.Iv) != gcmNonceBytes {
		return nil, errors.New("pkcs11: the blob has no 12-byte AES-GCM nonce (not written by this plugin)")
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	params := pkcs11.NewGCMParams(blob.Iv, aad, gcmTagBits)
	defer params.Free()
	if err := k.ctx.DecryptInit(k.session, []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_AES_GCM, params)}, k.key); err != nil {
		return nil, describe(err, "decrypt", "is the HSM reachable?")
	}
	pt, err := k.ctx.Decrypt(k.session, blob.Ciphertext)
	if err != nil {
		return nil, describe(err, "decrypt", "wrong key or altered ciphertext")
	}
	return pt, nil
}

func (k *hsmKey) close() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.ctx.Logout(k.session)
	k.ctx.CloseSession(k.session)
	k.ctx.Finalize()
	k.ctx.Destroy()
}

// wrapperServer implements the Wrapper service; SetConfig creates an instance.
type wrapperServer struct {
	pb.UnimplementedWrapperServer
	logger    hclog.Logger
	mu        sync.Mutex
	next      int
	instances map[string]*hsmKey
}

func (s *wrapperServer) get(id string) (*hsmKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if k, ok := s.instances[id]; ok {
		return k, nil
	}
	return nil, status.Error(codes.NotFound, "instance not found")
}

func (s *wrapperServer) SetConfig(_ context.Context, req *pb.SetConfigRequest) (*pb.SetConfigResponse, error) {
	cfg := req.GetOptions().GetWithConfigMap()
	key, err := openKey(cfg)
	if err != nil {
		s.logger.Error("pkcs11 seal configuration failed", "error", err)
		return nil, err
	}
	s.mu.Lock()
	s.next++
	id := fmt.Sprintf("pkcs11-%d", s.next)
	s.instances[id] = key
	s.mu.Unlock()
	s.logger.Info("pkcs11 seal ready", "token_label", key.token, "key", key.keyID)
	return &pb.SetConfigResponse{WrapperId: id, WrapperConfig: &wrapping.WrapperConfig{Metadata: map[string]string{
		"lib": cfg["lib"], "token_label": key.token, "key_label": key.keyID, "mechanism": "CKM_AES_GCM",
	}}}, nil
}

func (s *wrapperServer) Type(_ context.Context, req *pb.TypeRequest) (*pb.TypeResponse, error) {
	if _, err := s.get(req.WrapperId); err != nil {
		return nil, err
	}
	return &pb.TypeResponse{Type: "pkcs11"}, nil
}

func (s *wrapperServer) KeyId(_ context.Context, req *pb.KeyIdRequest) (*pb.KeyIdResponse, error) {
	k, err := s.get(req.WrapperId)
	if err != nil {
		return nil, err
	}
	return &pb.KeyIdResponse{KeyId: k.keyID}, nil
}

func (s *wrapperServer) Encrypt(_ context.Context, req *pb.EncryptRequest) (*pb.EncryptResponse, error) {
	k, err := s.get(req.WrapperId)
	if err != nil {
		return nil, err
	}
	blob, err := k.encrypt(req.Plaintext, req.GetOptions().GetWithAad())
	if err != nil {
		return nil, err
	}
	return &pb.EncryptResponse{Ciphertext: blob}, nil
}

func (s *wrapperServer) Decrypt(_ context.Context, req *pb.DecryptRequest) (*pb.DecryptResponse, error) {
	k, err := s.get(req.WrapperId)
	if err != nil {
		return nil, err
	}
	pt, err := k.decrypt(req.Ciphertext, req.GetOptions().GetWithAad())
	if err != nil {
		return nil, err
	}
	return &pb.DecryptResponse{Plaintext: pt}, nil
}

func (s *wrapperServer) Init(_ context.Context, req *pb.InitRequest) (*pb.InitResponse, error) {
	if _, err := s.get(req.WrapperId); err != nil {
		return nil, err
	}
	return &pb.InitResponse{}, nil
}

func (s *wrapperServer) Finalize(_ context.Context, req *pb.FinalizeRequest) (*pb.FinalizeResponse, error) {
	s.mu.Lock()
	k, ok := s.instances[req.WrapperId]
	delete(s.instances, req.WrapperId)
	s.mu.Unlock()
	if ok {
		k.close()
	}
	return &pb.FinalizeResponse{}, nil
}

type metadataServer struct {
	metapb.UnimplementedMetadataServer
}

func (metadataServer) Get(context.Context, *metapb.Empty) (*metapb.MetadataResponse, error) {
	return &metapb.MetadataResponse{SensitiveKmsFields: []string{"pin"}}, nil
}

type wrapperPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	logger hclog.Logger
}

func (p *wrapperPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	pb.RegisterWrapperServer(s, &wrapperServer{logger: p.logger, instances: map[string]*hsmKey{}})
	return nil
}

func (p *wrapperPlugin) GRPCClient(context.Context, *plugin.GRPCBroker, *grpc.ClientConn) (any, error) {
	return nil, errors.New("this binary is a plugin server only")
}

type metadataPlugin struct{ plugin.NetRPCUnsupportedPlugin }

func (metadataPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	metapb.RegisterMetadataServer(s, metadataServer{})
	return nil
}

func (metadataPlugin) GRPCClient(context.Context, *plugin.GRPCBroker, *grpc.ClientConn) (any, error) {
	return nil, errors.New("this binary is a plugin server only")
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "--version" {
		fmt.Println("openbao-kms-pkcs11-labkit (labkit PKCS#11 KMS plugin, CKM_AES_GCM)")
		return
	}
	logger := hclog.New(&hclog.LoggerOptions{Level: hclog.Info, Output: os.Stderr, JSONFormat: true})
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: handshake,
		VersionedPlugins: map[int]plugin.PluginSet{1: {
			"wrapper":  &wrapperPlugin{logger: logger},
			"metadata": metadataPlugin{},
		}},
		Logger:     logger,
		GRPCServer: plugin.DefaultGRPCServer,
	})
}
