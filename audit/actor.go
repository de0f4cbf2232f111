package audit

import (
	"context"
	"strings"
	"time"

	"github.com/tongban/tongban/storage"
)

// Actor is who performs an administrative action, for its audit entry: "who, what, when,
// from where" (GB/T 39786-2021 §8.1.4.2, docs/compliance/gbt39786-level3.md).
//
// ID is a person ID (an administrator logged in at the provider's console or admin API), a
// client ID (an app managing its own registration, RFC 7592), or ShellOperator (the `idp`
// command on the server's own shell). Role is the role the action was allowed under
// ("operator", "reviewer", "auditor", "department-admin"; "" for shell and clients).
// Address is the request's remote address as the server saw it (an IP, no port), "" on the
// shell. Administrators' addresses are recorded in full: they are staff acting in office,
// not citizens.
type Actor struct {
	ID      string
	Role    string
	Address string
}

// ShellOperator is Actor.ID for actions taken with the `idp` command on the server's shell.
const ShellOperator = "operator"

// Shell is the actor of the `idp` admin commands.
var Shell = Actor{ID: ShellOperator}

// Event builds the audit entry of an action by a: Actor a.ID, Action action, Subject the
// object's opaque ID, ClientID the app concerned ("" when none), and Detail "role=R from=A"
// (the parts that are set) followed by detail. detail must hold no personal data.
func (a Actor) Event(at time.Time, action, subject, clientID, detail string) storage.AuditEvent {
	var parts []string
	if a.Role != "" {
		parts = append(parts, "role="+a.Role)
	}
	if a.Address != "" {
		parts = append(parts, "from="+a.Address)
	}
	if detail != "" {
		parts = append(parts, detail)
	}
	id := a.ID
	if id == "" {
		id = ShellOperator
	}
	return storage.AuditEvent{Time: at.UTC(), Actor: id, Action: action, Subject: subject,
		ClientID: clientID, Detail: strings.Join(parts, " ")}
}

// Record appends a's action to store's audit log (Event) and returns the append's error:
// an administrative action whose audit entry cannot be written must fail, so callers run
// Record in the same transaction as the change (storage.Transactor.InTx).
func (a Actor) Record(ctx context.Context, store storage.Audit, at time.Time, action, subject, clientID, detail string) error {
	_, err := store.AppendAudit(ctx, a.Event(at, action, subject, clientID, detail))
	return err
}
