package qr

import (
	"crypto/ecdsa"
	"encoding/hex"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tongban/tongban/credentials"
	smcrypto "github.com/tongban/tongban/sm-crypto"
)

// Regenerate the golden vectors (after a deliberate format change, or when a
// gmsm upgrade changes how SM2 derives its nonce from the fixed reader):
//
//	go test ./qr/ -run TestGolden -update
//
// then copy the new files into docs/formats/qr-payload.md (TestGoldenDoc
// says which blocks differ) and review the diff.
var update = flag.Bool("update", false, "rewrite qr/testdata/golden from the fixed keys, clock and reader")

const goldenDir = "testdata/golden"

// goldenVector is one code of the golden set.
type goldenVector struct {
	name     string
	profile  DisplayProfile
	licences func(map[credentials.Kind]credentials.Licence) []credentials.Licence
}

var goldenVectors = []goldenVector{
	{"identity", ProfileMaskedIdentity, func(m map[credentials.Kind]credentials.Licence) []credentials.Licence {
		return []credentials.Licence{m[credentials.ResidentID]}
	}},
	{"registration", ProfileFullRegistration, func(m map[credentials.Kind]credentials.Licence) []credentials.Licence {
		return []credentials.Licence{m[credentials.DrivingLicence].WithFields("class", "first_issue")}
	}},
	{"bundle", ProfileBundle, func(m map[credentials.Kind]credentials.Licence) []credentials.Licence {
		return []credentials.Licence{m[credentials.ResidentID], m[credentials.DrivingLicence], m[credentials.HealthCode]}
	}},
}

// goldenFiles computes every golden file's content from the fixed inputs.
func goldenFiles(t *testing.T) map[string]string {
	t.Helper()
	files := map[string]string{
		"code-key.pub.hex": hex.EncodeToString(smcrypto.MarshalPublicKey(&codeKey(t).PublicKey)),
		"list-key.pub.hex": hex.EncodeToString(smcrypto.MarshalPublicKey(&listKey(t).PublicKey)),
	}
	list, err := SignTrustList(goldenList(t), listKey(t), &countingReader{})
	if err != nil {
		t.Fatal(err)
	}
	files["trustlist.cose.hex"] = hex.EncodeToString(list)
	ls := demoLicences(t)
	for _, v := range goldenVectors {
		c, err := testMinter(t, goldenNow).Mint(v.profile, v.licences(ls)...)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := decodeBase45Body(c.Text)
		if err != nil {
			t.Fatal(err)
		}
		env, err := parseEnvelope(raw, envelopeMode, payloadMode, false)
		if err != nil {
			t.Fatal(err)
		}
		files[v.name+".txt"] = c.Text
		files[v.name+".cose.hex"] = hex.EncodeToString(raw)
		files[v.name+".payload.hex"] = hex.EncodeToString(env.msg.Payload)
	}
	return files
}

func readGolden(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(goldenDir, name))
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	return strings.TrimSuffix(string(b), "\n")
}

// TestGolden checks that minting with the fixed keys, clock and reader
// reproduces testdata/golden exactly. The payloads are deterministic CBOR
// and must never change without a format change. The signatures are
// reproducible because smcrypto.Sign is deterministic for a fixed rand
// stream with gmsm v0.44.1.
func TestGolden(t *testing.T) {
	files := goldenFiles(t)
	if *update {
		if err := os.MkdirAll(goldenDir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, content := range files {
			if err := os.WriteFile(filepath.Join(goldenDir, name), []byte(content+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	for name, fresh := range files {
		golden := readGolden(t, name)
		if golden == fresh {
			continue
		}
		if strings.HasSuffix(name, ".payload.hex") || strings.HasSuffix(name, ".pub.hex") {
			t.Errorf("%s changed: the wire format moved.\n fresh %s\ngolden %s", name, fresh, golden)
		} else {
			t.Errorf("%s differs from a fresh signature with the fixed reader (payloads equal unless reported above); "+
				"if only the SM2 signature changed after a gmsm upgrade, rerun with -update and update the doc", name)
		}
	}
}

// TestGoldenVerifies verifies the golden texts with the golden trust list,
// as any independent verifier would, and checks what they show.
func TestGoldenVerifies(t *testing.T) {
	listKeyBytes, _ := hex.DecodeString(readGolden(t, "list-key.pub.hex"))
	pub, err := smcrypto.ParsePublicKey(listKeyBytes)
	if err != nil {
		t.Fatal(err)
	}
	listBytes, _ := hex.DecodeString(readGolden(t, "trustlist.cose.hex"))
	list, err := ParseTrustList(listBytes, []*ecdsa.PublicKey{pub})
	if err != nil {
		t.Fatal(err)
	}
	if list.Sequence != 7 || len(list.Keys) != 1 {
		t.Fatalf("golden trust list %+v", list)
	}
	v := &Verifier{Trust: list, Now: fixedClock(goldenNow)}

	r, err := v.Verify(readGolden(t, "identity.txt"))
	if err != nil {
		t.Fatal(err)
	}
	want := IdentityCheck{Kind: credentials.ResidentID, MaskedName: "林*彤", MaskedNumber: "110101********002X"}
	if got := *r.Identity; got.Kind != want.Kind || got.MaskedName != want.MaskedName || got.MaskedNumber != want.MaskedNumber ||
		got.ValidUntil == nil || got.ValidUntil.String() != "2036-08-01" {
		t.Errorf("identity: %+v", got)
	}
	if r.CTI != [CTISize]byte{0, 1, 2, 3, 4, 5, 6, 7} || !r.IssuedAt.Equal(goldenNow) {
		t.Errorf("claims: cti %x iat %s", r.CTI, r.IssuedAt)
	}

	r, err = v.Verify(readGolden(t, "registration.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if g := r.Registration; g.Kind != credentials.DrivingLicence || g.Number != "11010119900307002X" ||
		g.Fields["class"] != "C1" || g.Fields["first_issue"] != "2012-05-10" || len(g.Fields) != 2 {
		t.Errorf("registration: %+v", g)
	}

	r, err = v.Verify(readGolden(t, "bundle.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if b := r.Bundle; len(b.Entries) != 3 || b.Entries[2].Colour != credentials.ColourGreen || b.Entries[1].Kind != credentials.DrivingLicence {
		t.Errorf("bundle: %+v", b)
	}
}

// TestGoldenDoc checks that docs/formats/qr-payload.md quotes the golden
// files exactly. Each quote is a fenced block preceded by
// <!-- golden: NAME -->; line breaks inside it are ignored (and, for .hex
// files, all white space).
func TestGoldenDoc(t *testing.T) {
	doc, err := os.ReadFile("../docs/formats/qr-payload.md")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile("(?s)<!-- golden: ([a-z.-]+) -->\\s*```[a-z]*\\n(.*?)\\n```")
	found := map[string]bool{}
	for _, m := range re.FindAllSubmatch(doc, -1) {
		name, body := string(m[1]), string(m[2])
		found[name] = true
		body = strings.ReplaceAll(body, "\n", "")
		if strings.HasSuffix(name, ".hex") {
			body = strings.Join(strings.Fields(body), "")
		}
		if want := readGolden(t, name); body != want {
			t.Errorf("doc quote of %s differs from %s/%s", name, goldenDir, name)
		}
	}
	entries, err := os.ReadDir(goldenDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !found[e.Name()] {
			t.Errorf("docs/formats/qr-payload.md does not quote %s", e.Name())
		}
	}
}
