package storage

// OpenID Federation 1.0, relying-party side (oidc/federation*.go): apps registered
// automatically through the federation (Client.Source, Client.TrustAnchor,
// Client.FederationExpiresAt; migration 00030) and upstream providers found through it
// (Upstream.Federation; migration 00031).

// ClientSourceFederation is the Client.Source of an app registered automatically through
// OpenID Federation 1.0 (§12.1): its ID is its entity identifier.
const ClientSourceFederation = "federation"

// PurposeFederationRP is the key purpose of the keys this instance signs with as a federation
// relying party at upstream providers: request objects (RFC 9101) and private_key_jwt client
// assertions (RFC 7523). Their public keys are the jwks of the openid_relying_party metadata
// of its entity configuration.
const PurposeFederationRP KeyPurpose = "federation_rp"
