package oidc

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/tongban/tongban/accounts"
	"github.com/tongban/tongban/storage"
)

// "Download my data" (PIPL art. 45: the right to access and copy one's personal information):
// a JSON file of what tongban holds about the person. Numbers are masked unless the person
// logged in no longer than Config.FreshLogin ago and asked for the full copy (?full=1).

// dataExport is the downloaded document. Field names are stable: people may keep the file
// and compare it with a later one.
type dataExport struct {
	Format      string    `json:"format"` // "tongban-personal-data/1"
	GeneratedAt time.Time `json:"generated_at"`
	LegalBasis  string    `json:"legal_basis"`
	Full        bool      `json:"full"` // numbers in full (a fresh login asked for them)

	Person   exportPerson    `json:"person"`
	Sessions []exportSession `json:"sessions"`
	Consents []exportConsent `json:"consents"`
	Licences exportLicences  `json:"licences"`
	Audit    []exportAudit   `json:"audit"`
	// More holds the sections other features add (selfExportParts): passkeys, OTP devices.
	More map[string]any `json:"more,omitempty"`
}

type exportPerson struct {
	ID          string    `json:"id"` // also the OIDC "sub" of public-subject apps
	Kind        string    `json:"kind"`
	Name        string    `json:"name"`
	IDNumber    string    `json:"id_number"` // masked unless full
	Phone       string    `json:"phone,omitempty"`
	HasPassword bool      `json:"has_password"`
	HasTOTP     bool      `json:"has_totp"` // any OTP device (more.otp lists them)
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

type exportSession struct {
	Device    string    `json:"device"`
	ClientIP  string    `json:"client_ip"` // masked when stored
	ACR       string    `json:"acr"`
	AMR       []string  `json:"amr"`
	LoggedIn  time.Time `json:"logged_in"`
	LastSeen  time.Time `json:"last_seen"`
	ExpiresAt time.Time `json:"expires_at"`
	Current   bool      `json:"current"`
}

type exportConsent struct {
	ClientID   string    `json:"client_id"`
	ClientName string    `json:"client_name"`
	Scopes     []string  `json:"scopes"`
	GrantedAt  time.Time `json:"granted_at"`
}

type exportLicences struct {
	Held    []exportLicence `json:"held"`
	AsAgent []exportLicence `json:"as_agent"`
}

type exportLicence struct {
	Kind       string     `json:"kind"`
	Number     string     `json:"number"`
	Issuer     string     `json:"issuer"`
	Status     string     `json:"status"`
	ValidFrom  time.Time  `json:"valid_from"`
	ValidUntil *time.Time `json:"valid_until"` // null: long-term (长期)
}

type exportAudit struct {
	Time     time.Time `json:"time"`
	Action   string    `json:"action"`
	Actor    string    `json:"actor"`
	ClientID string    `json:"client_id,omitempty"`
	Detail   string    `json:"detail,omitempty"`
}

// exportAuditLimit bounds the audit entries of one download (the newest first).
const exportAuditLimit = 1000

// selfExportParts are the sections other features add to the download, each under its name in
// dataExport.More; the passkey and OTP parts append theirs in an init, e.g.
// selfExportParts = append(selfExportParts, func(ctx, s, p) (string, any, error) {
// return "passkeys", list, err }).
var selfExportParts []func(ctx context.Context, s *Server, p storage.Person) (string, any, error)

// handleSelfData answers GET /account/data[?full=1] with the person's data as a JSON
// attachment. ?full=1 wants a fresh login (else the login page first, coming back here) and
// gives the ID number and phone number in full. Audited "account.export" (detail masked or
// full).
func (s *Server) handleSelfData(w http.ResponseWriter, r *http.Request) {
	full := r.URL.Query().Get("full") == "1"
	ls, p, ok := s.accountSession(w, r, full)
	if !ok {
		return
	}
	ctx := r.Context()
	doc, err := s.exportData(ctx, ls, p, full)
	if err != nil {
		s.pageError(ctx, w, r, pickLang(r.URL.Query().Get("ui_locales")), "export personal data", err)
		return
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		s.pageError(ctx, w, r, pickLang(r.URL.Query().Get("ui_locales")), "encode personal data", err)
		return
	}
	detail := "masked"
	if full {
		detail = "full"
	}
	s.appendAudit(ctx, storage.AuditEvent{Actor: p.ID, Action: "account.export", Subject: p.ID, Detail: detail})
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="tongban-my-data-`+s.now().In(pageZone).Format("20060102")+`.json"`)
	h.Set("Cache-Control", "no-store")
	_, _ = w.Write(append(b, '\n'))
}

// exportData collects the document of handleSelfData.
func (s *Server) exportData(ctx context.Context, ls *storage.LoginSession, p storage.Person, full bool) (*dataExport, error) {
	doc := &dataExport{Format: "tongban-personal-data/1", GeneratedAt: s.now().UTC().Truncate(time.Second),
		LegalBasis: "《个人信息保护法》第四十五条 (PIPL art. 45)", Full: full,
		Sessions: []exportSession{}, Consents: []exportConsent{}, Audit: []exportAudit{},
		Licences: exportLicences{Held: []exportLicence{}, AsAgent: []exportLicence{}}}
	num, err := s.accounts.IDNumber(p)
	if err != nil {
		return nil, err
	}
	phone, err := s.accounts.PhoneNumber(p)
	if err != nil {
		return nil, err
	}
	doc.Person = exportPerson{ID: p.ID, Kind: string(p.Kind), Name: p.Name, IDNumber: p.IDNumberMasked,
		Phone: accounts.MaskPhone(phone), HasPassword: p.PasswordHash != "", HasTOTP: s.hasOTPDevice(ctx, p),
		CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt}
	if full {
		doc.Person.IDNumber, doc.Person.Phone = num, phone
	}

	sessions, err := s.store.ListLoginSessionsForPerson(ctx, p.ID, s.now())
	if err != nil {
		return nil, err
	}
	for _, x := range sessions {
		doc.Sessions = append(doc.Sessions, exportSession{Device: x.Device, ClientIP: x.ClientIP, ACR: x.ACR, AMR: x.AMR,
			LoggedIn: x.AuthTime, LastSeen: x.LastSeen, ExpiresAt: x.ExpiresAt, Current: x.ID == ls.ID})
	}
	consents, err := s.store.ListConsents(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	for _, c := range consents {
		name := c.ClientID
		if cl, err := s.clients.Get(ctx, c.ClientID); err == nil {
			name = cl.DisplayName()
		}
		doc.Consents = append(doc.Consents, exportConsent{ClientID: c.ClientID, ClientName: name, Scopes: c.Scopes, GrantedAt: c.GrantedAt})
	}

	// Licences: held (the holder index is the blind index of the number, as the wallet
	// computes it) and, for a natural person, those they may show as an agent of a legal
	// person.
	idx := s.kr.BlindIndex(num)
	held, err := s.store.ListLicencesByHolder(ctx, idx)
	if err != nil {
		return nil, err
	}
	var agent []storage.Licence
	if p.Kind == storage.NaturalPerson {
		if agent, err = s.store.ListLicencesByAgent(ctx, idx); err != nil {
			return nil, err
		}
	}
	conv := func(l storage.Licence) exportLicence {
		return exportLicence{Kind: l.Kind, Number: l.Number, Issuer: l.Issuer, Status: string(l.Status),
			ValidFrom: l.ValidFrom, ValidUntil: l.ValidUntil}
	}
	for _, l := range held {
		doc.Licences.Held = append(doc.Licences.Held, conv(l))
	}
	for _, l := range agent {
		doc.Licences.AsAgent = append(doc.Licences.AsAgent, conv(l))
	}

	events, err := s.store.QueryAudit(ctx, storage.AuditQuery{Person: p.ID, Limit: exportAuditLimit, Descending: true})
	if err != nil {
		return nil, err
	}
	for _, e := range events {
		doc.Audit = append(doc.Audit, exportAudit{Time: e.Time, Action: e.Action, Actor: e.Actor, ClientID: e.ClientID, Detail: e.Detail})
	}
	for _, part := range selfExportParts {
		name, v, err := part(ctx, s, p)
		if err != nil {
			return nil, err
		}
		if doc.More == nil {
			doc.More = map[string]any{}
		}
		doc.More[name] = v
	}
	return doc, nil
}

// hasOTPDevice reports whether the person has a confirmed OTP device (the legacy secret
// included); a storage error counts as false and is logged.
func (s *Server) hasOTPDevice(ctx context.Context, p storage.Person) bool {
	devs, err := s.accounts.ListOTPDevices(ctx, p.ID)
	if err != nil {
		s.logFailure(ctx, "list OTP devices", err)
	}
	return len(devs) > 0
}
