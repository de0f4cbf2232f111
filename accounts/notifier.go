package accounts

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/tongban/tongban/keyring"
)

// Notifier delivers a message to a person, out of band: the one-time code of access recovery
// (StartRecovery) goes to the person's registered mobile number. An SMS gateway plugs in by
// implementing it (see ConsoleNotifier for the smallest one, docs/citizens/recovery.md for a
// gateway).
//
// Send must return quickly — hand the message to a queue, do not wait for delivery — because
// the time it takes shows in the answer to a recovery request, which must not tell registered
// identifiers from others. It must not log the phone number or the code. An error is logged by
// the caller (with the person ID only) and the person sees the same answer as on success.
type Notifier interface {
	Send(ctx context.Context, to Recipient, msg Message) error
}

// Recipient is the person a Notifier sends to. The phone number stays sealed until the
// notifier asks for it (PhoneNumber), just before it sends.
type Recipient struct {
	// PersonID is the opaque person ID: what a notifier may log.
	PersonID string
	sealed   []byte
	kr       *keyring.Keyring
}

// PhoneNumber opens and returns the recipient's mobile number, 11 digits without prefix.
// Errors: ErrNoPhone when the person has none; the keyring's when the sealed number does not
// open.
func (r Recipient) PhoneNumber() (string, error) {
	if r.sealed == nil || r.kr == nil {
		return "", ErrNoPhone
	}
	b, err := r.kr.OpenField(r.sealed, personAAD(r.PersonID, sealPhone))
	return string(b), err
}

// MessageKind says what a Message is for.
type MessageKind string

// MessageRecoveryCode: the one-time code of access recovery (Message.Code).
const MessageRecoveryCode MessageKind = "recovery-code"

// Message is what a Notifier sends.
type Message struct {
	Kind MessageKind
	// Code is the one-time code (RecoveryCodeDigits digits) for MessageRecoveryCode.
	Code string
	// Expires is when Code stops working.
	Expires time.Time
	// Text is the message text in Simplified Chinese, ready for an SMS (with Code in it).
	Text string
}

// ConsoleNotifier writes each message to W, one line, with the masked phone number: the demo's
// notifier (`idp serve --notifier console`). It is for development only: a real deployment
// never prints codes.
type ConsoleNotifier struct {
	mu sync.Mutex
	W  io.Writer
}

// Send implements Notifier.
func (c *ConsoleNotifier) Send(_ context.Context, to Recipient, msg Message) error {
	phone, err := to.PhoneNumber()
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	_, err = fmt.Fprintf(c.W, "notifier: to %s (person %s): %s\n", MaskPhone(phone), to.PersonID, msg.Text)
	return err
}

// MaskPhone masks a mobile number for display: the first 3 and last 4 digits stay,
// "13900139000" → "139****9000". A number of 7 characters or fewer is masked entirely.
func MaskPhone(phone string) string {
	if len(phone) <= 7 {
		return strings.Repeat("*", len(phone))
	}
	return phone[:3] + strings.Repeat("*", len(phone)-7) + phone[len(phone)-4:]
}
