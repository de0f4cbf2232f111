package pkcs11kek

// Config configures Open and Generate. Only cmd/* reads files, flags and the environment; the
// PIN file named by pin-source is the exception, read by Open because the URI names it.
type Config struct {
	// URI names the module, the token, the key and the mechanism (see URI).
	URI string
	// PIN is the user PIN, used when the URI has neither pin-value nor pin-source. The
	// commands fill it from the TONGBAN_PKCS11_PIN environment variable. "" means none.
	PIN string
}

// GenerateOptions says what key Generate creates. The zero value makes an AES-256 key with
// CKM_AES_KEY_GEN, for aes-key-wrap-pad and aes-key-wrap.
type GenerateOptions struct {
	// KeyGenMechanism is the key-generation mechanism; 0 means CKM_AES_KEY_GEN (0x1080). For
	// the SM4 key of a 密码机 give the vendor's SM4 key-generation mechanism (0x8000xxxx).
	KeyGenMechanism uint
	// KeyType is CKA_KEY_TYPE; 0 means CKK_AES (0x1F). With a vendor KeyGenMechanism give
	// the vendor's SM4 key type.
	KeyType uint
	// ValueLen is CKA_VALUE_LEN in bytes; 0 means 32 for AES, and none (the mechanism's
	// fixed size) for a vendor key type.
	ValueLen uint
}
