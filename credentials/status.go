package credentials

import "fmt"

// Status is the state an issuing authority gives a licence.
type Status string

// Licence statuses.
const (
	StatusValid     Status = "valid"     // 有效
	StatusSuspended Status = "suspended" // 暂扣/冻结: may be restored
	StatusRevoked   Status = "revoked"   // 吊销/注销: final
	StatusExpired   Status = "expired"   // 过期
)

// ParseStatus returns the Status named s (exact, lowercase), or
// ErrUnknownStatus.
func ParseStatus(s string) (Status, error) {
	st := Status(s)
	if !st.Valid() {
		return "", fmt.Errorf("%w: %q", ErrUnknownStatus, s)
	}
	return st, nil
}

// Valid reports whether s is one of the four statuses.
func (s Status) Valid() bool {
	switch s {
	case StatusValid, StatusSuspended, StatusRevoked, StatusExpired:
		return true
	}
	return false
}

// ChineseName returns the status in Chinese (有效, 暂扣, 吊销, 过期), or "".
func (s Status) ChineseName() string {
	switch s {
	case StatusValid:
		return "有效"
	case StatusSuspended:
		return "暂扣"
	case StatusRevoked:
		return "吊销"
	case StatusExpired:
		return "过期"
	}
	return ""
}

func (s Status) String() string { return string(s) }
