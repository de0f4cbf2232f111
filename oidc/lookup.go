package oidc

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/tongban/tongban/credentials"
	"github.com/tongban/tongban/internal/textcheck"
	"github.com/tongban/tongban/storage"
)

// Licence lookup (一证通办, docs/developers/licence-lookup.md): a department app reads the full
// data of the holder's licences of one kind at the wallet's lookup API, with an access token
// granted the scope licence:<kind> by the holder's consent. The consent page names the app's
// purpose (storage.Client.Purpose) beside those scopes.

// ScopeLicencePrefix starts every licence scope: ScopeLicencePrefix + a credentials.Kind, e.g.
// "licence:resident-id".
const ScopeLicencePrefix = "licence:"

// LicenceScope returns the scope that lets an app read the holder's licences of kind k in
// full at the wallet's lookup API: "licence:" + k, e.g. "licence:driving-licence".
func LicenceScope(k credentials.Kind) string { return ScopeLicencePrefix + string(k) }

// LicenceScopeKind returns the kind a licence scope names; ok is false when scope is not
// "licence:" followed by one of credentials.Kinds.
func LicenceScopeKind(scope string) (k credentials.Kind, ok bool) {
	rest, found := strings.CutPrefix(scope, ScopeLicencePrefix)
	if !found {
		return "", false
	}
	k = credentials.Kind(rest)
	return k, k.Valid()
}

// LicenceScopes lists the licence scopes, one per credentials.Kinds, in that order. They are
// part of SupportedScopes.
var LicenceScopes = func() []string {
	out := make([]string, 0, len(credentials.Kinds))
	for _, k := range credentials.Kinds {
		out = append(out, LicenceScope(k))
	}
	return out
}()

// MaxPurposeLength is the longest accepted NewClient.Purpose or PurposeEn, in characters
// (Unicode code points).
const MaxPurposeLength = 200

// ErrInvalidPurpose: a client registered with a licence scope has no purpose, or a purpose is
// longer than MaxPurposeLength characters, is not UTF-8 or contains control or invisible
// format characters.
var ErrInvalidPurpose = errors.New("oidc: invalid purpose")

func init() {
	SupportedScopes = append(SupportedScopes, LicenceScopes...)
	selfExportParts = append(selfExportParts, exportLookups)
	// A licence scope releases the holder's number at userinfo (and in the ID token): every
	// full licence carries it anyway (credentials.Licence.Holder), and the wallet's lookup API
	// finds the holder by it, asking userinfo with the app's token.
	for _, sc := range LicenceScopes {
		scopeClaims[sc] = []string{ClaimIDNumber, ClaimIDNumberType}
	}
	addMessages(map[string]map[string]string{
		langZH: {
			"lookupHeading": "查阅您的电子证照（一证通办）",
			"lookupPurpose": "用途：",
			"lookupHelp":    "每次查阅都会记录，您可在电子证照的“查阅记录”中查看；也可随时在账户页面撤回此授权。",
			"lookupScope":   "完整读取您的%s（全部登记信息，含证件号码）",
		},
		langEN: {
			"lookupHeading": "Read your e-licences",
			"lookupPurpose": "Purpose:",
			"lookupHelp":    "Every read is recorded: see “Who read my licences” in your e-licence wallet. You can withdraw this consent on your account page at any time.",
			"lookupScope":   "Read your %s in full (every registered detail, including its number)",
		},
	})
}

// licenceScopeText is the consent-page line of a licence scope ("read your <licence name> in
// full"); ok is false for any other scope.
func licenceScopeText(lang, scope string) (string, bool) {
	k, ok := LicenceScopeKind(scope)
	if !ok {
		return "", false
	}
	name := k.ChineseName()
	if lang == langEN {
		en := k.EnglishName()
		r, n := utf8.DecodeRuneInString(en)
		name = string(unicode.ToLower(r)) + en[n:]
	}
	return fmt.Sprintf(messages[lang]["lookupScope"], name), true
}

// lookupConsent is the consent page's licence-lookup box: the app's purpose and one line per
// requested licence scope.
type lookupConsent struct {
	Purpose  string
	Licences []string
}

// validatePurpose checks NewClient.Purpose and PurposeEn against scopes (the client's
// registered scopes): a purpose is required with any licence scope; each text at most
// MaxPurposeLength characters of UTF-8 without control or format characters.
func validatePurpose(purpose, purposeEn string, scopes []string) []error {
	var problems []error
	licence := false
	for _, sc := range scopes {
		if _, ok := LicenceScopeKind(sc); ok {
			licence = true
		}
	}
	if licence && purpose == "" {
		problems = append(problems, fmt.Errorf("%w: a client with a licence scope (%s…) needs a purpose (shown to the holder on the consent page)", ErrInvalidPurpose, ScopeLicencePrefix))
	}
	for _, p := range []struct{ name, v string }{{"purpose", purpose}, {"English purpose", purposeEn}} {
		switch {
		case !utf8.ValidString(p.v):
			problems = append(problems, fmt.Errorf("%w: the %s is not UTF-8", ErrInvalidPurpose, p.name))
		case utf8.RuneCountInString(p.v) > MaxPurposeLength:
			problems = append(problems, fmt.Errorf("%w: the %s has %d characters, at most %d", ErrInvalidPurpose, p.name, utf8.RuneCountInString(p.v), MaxPurposeLength))
		case strings.ContainsFunc(p.v, textcheck.Invisible):
			problems = append(problems, fmt.Errorf("%w: the %s contains control or invisible characters", ErrInvalidPurpose, p.name))
		}
	}
	return problems
}

// lookupExport is one read of the person's licence by an app, in the account data download.
type lookupExport struct {
	Time     time.Time `json:"time"`
	ClientID string    `json:"client_id"`
	App      string    `json:"app"`
	Kind     string    `json:"kind"`
	Licence  string    `json:"licence_id"`
}

// exportLookups is the download's "licence_lookups" section: the reads of the person's own
// licences by apps (audit action licence.lookup, written by the wallet), newest first, at most
// exportAuditLimit. Those entries name the licence, not the person, so the person's audit
// section does not hold them; they are found through the licences this database holds for the
// person — none when the wallet keeps its licences and audit log in a database of its own
// (the wallet's records page shows them there).
func exportLookups(ctx context.Context, s *Server, p storage.Person) (string, any, error) {
	out := []lookupExport{}
	num, err := s.accounts.IDNumber(p)
	if err != nil {
		return "", nil, err
	}
	held, err := s.store.ListLicencesByHolder(ctx, s.kr.BlindIndex(num))
	if err != nil {
		return "", nil, err
	}
	for _, l := range held {
		es, err := s.store.QueryAudit(ctx, storage.AuditQuery{Action: actionLicenceLookup, Person: l.ID, Limit: exportAuditLimit, Descending: true})
		if err != nil {
			return "", nil, err
		}
		for _, e := range es {
			if e.Subject != l.ID {
				continue
			}
			name := e.ClientID
			if cl, err := s.clients.Get(ctx, e.ClientID); err == nil {
				name = cl.DisplayName()
			}
			out = append(out, lookupExport{Time: e.Time, ClientID: e.ClientID, App: name, Kind: l.Kind, Licence: l.ID})
		}
	}
	slices.SortStableFunc(out, func(a, b lookupExport) int { return b.Time.Compare(a.Time) })
	if len(out) > exportAuditLimit {
		out = out[:exportAuditLimit]
	}
	return "licence_lookups", out, nil
}

// actionLicenceLookup is the wallet's audit action of a licence read (wallet.ActionLookup).
const actionLicenceLookup = "licence.lookup"
