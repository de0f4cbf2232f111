// Package passkeytest is a software WebAuthn authenticator for tests and benchmarks: one
// discoverable ES256 credential (crypto/ecdsa, P-256), "none" attestation, and knobs to play
// a phishing site (Origin, RPID), an authenticator that skips user verification (UV), a clone
// (Counter) or one whose backup flags change (BE, BS). It speaks the JSON the provider's page
// script posts: a PublicKeyCredential with base64url binary members (WebAuthn L3 §5.1
// toJSON()).
package passkeytest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/fxamacker/cbor/v2"
)

var b64 = base64.RawURLEncoding

// Authenticator flags (WebAuthn §6.1 authenticator data, "flags").
const (
	flagUP = 0x01
	flagUV = 0x04
	flagBE = 0x08
	flagBS = 0x10
	flagAT = 0x40
)

// Authenticator is a platform authenticator with one credential. The zero value is not usable:
// call New. Not safe for concurrent use.
type Authenticator struct {
	// Origin goes into clientDataJSON.origin: the page the browser ran the ceremony on.
	Origin string
	// RPID, when set, is hashed into the authenticator data instead of the options' RP ID.
	RPID string
	// UV sets the user-verified flag (true after New).
	UV bool
	// BE and BS set the backup-eligible and backup-state flags.
	BE, BS bool
	// Counter is the signature counter: Get adds one before signing unless NoCounter (then 0).
	Counter   uint32
	NoCounter bool

	key    *ecdsa.PrivateKey
	id     []byte
	handle []byte // user handle stored at Create
}

// New returns an authenticator for pages on origin with user verification on.
func New(origin string) *Authenticator {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err) // never with crypto/rand
	}
	id := make([]byte, 32)
	_, _ = rand.Read(id)
	return &Authenticator{Origin: origin, UV: true, key: key, id: id}
}

// CredentialID returns the credential ID.
func (a *Authenticator) CredentialID() []byte { return a.id }

// UserHandle returns the user handle stored at Create.
func (a *Authenticator) UserHandle() []byte { return a.handle }

// SetUserHandle replaces the stored user handle (to play an authenticator that answers with
// another person's handle).
func (a *Authenticator) SetUserHandle(h []byte) { a.handle = h }

type creationOptions struct {
	PublicKey struct {
		RP        struct{ ID string } `json:"rp"`
		User      struct{ ID string } `json:"user"`
		Challenge string              `json:"challenge"`
		Exclude   []struct {
			ID string `json:"id"`
		} `json:"excludeCredentials"`
	} `json:"publicKey"`
}

type requestOptions struct {
	PublicKey struct {
		Challenge string `json:"challenge"`
		RPID      string `json:"rpId"`
	} `json:"publicKey"`
}

// ErrExcluded: Create was asked to make a credential it already holds (excludeCredentials).
var ErrExcluded = errors.New("passkeytest: credential excluded")

func (a *Authenticator) flags() byte {
	f := byte(flagUP)
	if a.UV {
		f |= flagUV
	}
	if a.BE {
		f |= flagBE
	}
	if a.BS {
		f |= flagBS
	}
	return f
}

func (a *Authenticator) clientData(typ, challenge string) []byte {
	js, _ := json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": a.Origin, "crossOrigin": false})
	return js
}

func (a *Authenticator) rpIDHash(optionsRPID string) []byte {
	id := optionsRPID
	if a.RPID != "" {
		id = a.RPID
	}
	h := sha256.Sum256([]byte(id))
	return h[:]
}

// Create answers navigator.credentials.create options (JSON {"publicKey":{…}}) with the
// registration PublicKeyCredential as JSON, storing the user handle.
func (a *Authenticator) Create(options []byte) ([]byte, error) {
	var o creationOptions
	if err := json.Unmarshal(options, &o); err != nil {
		return nil, fmt.Errorf("passkeytest: creation options: %w", err)
	}
	for _, e := range o.PublicKey.Exclude {
		if e.ID == b64.EncodeToString(a.id) {
			return nil, ErrExcluded
		}
	}
	handle, err := b64.DecodeString(o.PublicKey.User.ID)
	if err != nil {
		return nil, fmt.Errorf("passkeytest: user.id: %w", err)
	}
	a.handle = handle
	pub, err := a.key.PublicKey.ECDH()
	if err != nil {
		return nil, err
	}
	raw := pub.Bytes() // 0x04 ‖ x ‖ y
	cose, err := cbor.CoreDetEncOptions().EncMode()
	if err != nil {
		return nil, err
	}
	coseKey, err := cose.Marshal(map[int]any{1: 2, 3: -7, -1: 1, -2: raw[1:33], -3: raw[33:]})
	if err != nil {
		return nil, err
	}
	ad := append([]byte{}, a.rpIDHash(o.PublicKey.RP.ID)...)
	ad = append(ad, a.flags()|flagAT)
	ad = binary.BigEndian.AppendUint32(ad, a.Counter)
	ad = append(ad, make([]byte, 16)...) // AAGUID: zero (no attestation)
	ad = binary.BigEndian.AppendUint16(ad, uint16(len(a.id)))
	ad = append(ad, a.id...)
	ad = append(ad, coseKey...)
	att, err := cose.Marshal(map[string]any{"fmt": "none", "attStmt": map[string]any{}, "authData": ad})
	if err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{
		"id": b64.EncodeToString(a.id), "rawId": b64.EncodeToString(a.id), "type": "public-key",
		"authenticatorAttachment": "platform", "clientExtensionResults": map[string]any{},
		"response": map[string]any{
			"clientDataJSON":    b64.EncodeToString(a.clientData("webauthn.create", o.PublicKey.Challenge)),
			"attestationObject": b64.EncodeToString(att),
			"transports":        []string{"internal"},
		},
	})
}

// Get answers navigator.credentials.get options with the assertion PublicKeyCredential as
// JSON, signed with ES256 over authenticatorData ‖ SHA-256(clientDataJSON) (§6.3.3).
func (a *Authenticator) Get(options []byte) ([]byte, error) {
	var o requestOptions
	if err := json.Unmarshal(options, &o); err != nil {
		return nil, fmt.Errorf("passkeytest: request options: %w", err)
	}
	if a.NoCounter {
		a.Counter = 0
	} else {
		a.Counter++
	}
	ad := append([]byte{}, a.rpIDHash(o.PublicKey.RPID)...)
	ad = append(ad, a.flags())
	ad = binary.BigEndian.AppendUint32(ad, a.Counter)
	cd := a.clientData("webauthn.get", o.PublicKey.Challenge)
	h := sha256.Sum256(cd)
	msg := sha256.Sum256(append(append([]byte{}, ad...), h[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, a.key, msg[:])
	if err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{
		"id": b64.EncodeToString(a.id), "rawId": b64.EncodeToString(a.id), "type": "public-key",
		"authenticatorAttachment": "platform", "clientExtensionResults": map[string]any{},
		"response": map[string]any{
			"clientDataJSON":    b64.EncodeToString(cd),
			"authenticatorData": b64.EncodeToString(ad),
			"signature":         b64.EncodeToString(sig),
			"userHandle":        b64.EncodeToString(a.handle),
		},
	})
}
