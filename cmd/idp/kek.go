package main

import (
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/tongban/tongban/cmd/internal/app"
	pkcs11kek "github.com/tongban/tongban/kek/pkcs11"
)

func (c *cli) kekCmd() *cobra.Command {
	return app.Group("kek", "Manage the key-encryption key in a cryptographic module (PKCS#11)",
		c.kekGenerateCmd())
}

func (c *cli) kekGenerateCmd() *cobra.Command {
	var genMech, keyType string
	var valueLen uint
	cmd := &cobra.Command{
		Use:   "pkcs11-generate --kek-pkcs11 URI",
		Short: "Create the key-encryption key inside a PKCS#11 token",
		Long: `Create the key-encryption key named by --kek-pkcs11 inside its token: a secret key that
never leaves the module (CKA_SENSITIVE true, CKA_EXTRACTABLE false) and may only wrap and unwrap
keys (CKA_WRAP, CKA_UNWRAP true). By default an AES-256 key (CKM_AES_KEY_GEN), for the
aes-key-wrap-pad and aes-key-wrap mechanisms; for the SM4 mechanism of a 密码机 give the vendor's
SM4 key-generation mechanism and key type (numbers from the vendor's PKCS#11 header).

An existing key with the same label is never replaced. Prints the key's ID, which every wrapped
key records. The database is not touched: move the existing keys with 'idp keys rewrap'.`,
		Args: cobra.NoArgs,
	}
	f := cmd.Flags()
	f.StringVar(&genMech, "key-gen-mechanism", "", "vendor key-generation mechanism, hexadecimal 0x8000xxxx (default CKM_AES_KEY_GEN)")
	f.StringVar(&keyType, "key-type", "", "vendor CKA_KEY_TYPE, hexadecimal 0x8000xxxx, with --key-gen-mechanism (default CKK_AES)")
	f.UintVar(&valueLen, "value-len", 0, "CKA_VALUE_LEN in bytes (default 32 for AES; none for a vendor key type)")
	cmd.RunE = c.run(func(cmd *cobra.Command, args []string) error {
		var opts pkcs11kek.GenerateOptions
		_, err := c.setup(cmd, true, func(p *app.Problems) {
			c.cfg.Common.Validate(p)
			if c.cfg.KEKPKCS11 == "" {
				p.Addf("kek-pkcs11: required: the PKCS#11 URI of the key to create")
			}
			var err error
			if opts.KeyGenMechanism, err = vendorNumber(genMech); err != nil {
				p.Addf("--key-gen-mechanism: %v", err)
			}
			if opts.KeyType, err = vendorNumber(keyType); err != nil {
				p.Addf("--key-type: %v", err)
			}
			if (genMech == "") != (keyType == "") {
				p.Addf("--key-gen-mechanism and --key-type go together")
			}
			opts.ValueLen = valueLen
		})
		if err != nil {
			return err
		}
		id, err := pkcs11kek.Generate(pkcs11kek.Config{URI: c.cfg.KEKPKCS11, PIN: c.cfg.PKCS11PIN}, opts)
		if err != nil {
			return fmt.Errorf("kek-pkcs11: %w", err)
		}
		fmt.Fprintf(c.out, "created key-encryption key %s\n", id)
		return nil
	})
	return cmd
}

// vendorNumber parses "" (0) or a vendor-defined PKCS#11 number, 0x80000000 to 0xffffffff.
func vendorNumber(s string) (uint, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(s, 0, 32)
	if err != nil || n < 0x80000000 {
		return 0, fmt.Errorf("want a vendor-defined number, hexadecimal 0x80000000 to 0xffffffff")
	}
	return uint(n), nil
}
