package oidc

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/tongban/tongban/accounts"
)

// Page texts of the lockout (accounts.CheckAttempt): how long to wait, and a warning before a
// pause. Each takes one value through fmt.Sprintf: a duration (waitText) or a count.
const (
	msgThrottled     = "errThrottled"     // account paused for untrusted clients; %s = wait
	msgAddressLocked = "errAddressLocked" // client address locked; %s = wait
	msgWaitNext      = "errWaitNext"      // after a failure that starts or grows a wait; %s
	msgAttemptsLeft  = "errAttemptsLeft"  // %d failures left before a pause (more than one), %s its length, %s the longest
	msgAttemptLeft   = "errAttemptLeft"   // one failure left before a pause; %s its length, %s the longest
	unitSeconds      = "unitSeconds"      // %d
	unitSecond       = "unitSecond"
	unitMinutes      = "unitMinutes" // %d
	unitMinute       = "unitMinute"
	unitHours        = "unitHours" // %d
	unitHour         = "unitHour"
)

// firstPause is the wait after Config.AccountLockThreshold failures (Config.AccountDelay): the
// lockout the login page's warning names. longestPause is Config.AccountMaxDelay.
func (s *Server) firstPause() time.Duration { return s.accounts.Delay(s.cfg.AccountLockThreshold) }

func (s *Server) longestPause() time.Duration {
	return s.accounts.Delay(s.cfg.AccountLockThreshold + 64)
}

// attemptsWarning is how few failures must be left before the login page warns of a pause.
// The warning depends only on the failure counter of what was typed — a person's, or the
// blind index of an identifier nobody has, counted alike (accounts.CheckAttempt) — so it reads
// the same for an ID number nobody has: it tells nobody whether an account exists.
const attemptsWarning = 2

func init() {
	addMessages(map[string]map[string]string{
		langZH: {
			msgThrottled:     "该账号登录失败次数过多，为保护账号安全，请在 %s后再试。在您以前登录过的设备上可以正常登录。",
			msgAddressLocked: "您所在网络地址的登录失败次数过多，请在 %s后再试。",
			msgWaitNext:      "请在 %s后再试。",
			msgAttemptsLeft:  "还可尝试 %d 次，之后将暂停登录 %s（再输错，暂停时间逐次加倍，最长 %s）。",
			msgAttemptLeft:   "还可尝试 1 次，之后将暂停登录 %s（再输错，暂停时间逐次加倍，最长 %s）。",
			unitSeconds:      "%d 秒",
			unitSecond:       "1 秒",
			unitMinutes:      "%d 分钟",
			unitMinute:       "1 分钟",
			unitHours:        "%d 小时",
			unitHour:         "1 小时",
		},
		langEN: {
			msgThrottled:     "Too many failed logins for this account. To protect it, try again in %s. Devices you have logged in with before can still log in.",
			msgAddressLocked: "Too many failed logins from your network address. Try again in %s.",
			msgWaitNext:      "Wait %s before trying again.",
			msgAttemptsLeft:  "%d attempts left before a lockout of %s (it doubles with each further failure, up to %s).",
			msgAttemptLeft:   "1 attempt left before a lockout of %s (it doubles with each further failure, up to %s).",
			unitSeconds:      "%d seconds",
			unitSecond:       "1 second",
			unitMinutes:      "%d minutes",
			unitMinute:       "1 minute",
			unitHours:        "%d hours",
			unitHour:         "1 hour",
		},
	})
}

// waitText says d in the page's language, rounded up to whole seconds below a minute, whole
// minutes below an hour, else whole hours ("4 秒", "15 minutes").
func waitText(t map[string]string, d time.Duration) string {
	unit := func(n int64, one, many string) string {
		if n == 1 {
			return t[one]
		}
		return fmt.Sprintf(t[many], n)
	}
	switch secs := retryAfterSeconds(d); {
	case secs < 60:
		return unit(secs, unitSecond, unitSeconds)
	case secs < 3600:
		return unit((secs+59)/60, unitMinute, unitMinutes)
	default:
		return unit((secs+3599)/3600, unitHour, unitHours)
	}
}

// retryAfterSeconds is d in whole seconds, rounded up, at least 1: the wait pages state and
// Retry-After carries.
func retryAfterSeconds(d time.Duration) int64 {
	return max(int64((d+time.Second-1)/time.Second), 1)
}

// setRetryAfter sets Retry-After (RFC 9110 §10.2.3) to retryAfterSeconds(d).
func setRetryAfter(w http.ResponseWriter, d time.Duration) {
	w.Header().Set("Retry-After", strconv.FormatInt(retryAfterSeconds(d), 10))
}

// renderLoginRefused answers a login for the app clientID (the pending request's) that
// accounts refused or failed (a *accounts.LoginError), and counts it (countLogin):
// 429 with Retry-After and how long to wait for ErrLoginThrottled and ErrLoginLocked; 401 with
// the one failure message for ErrLoginFailed, plus the wait that now applies or a warning when
// few failures are left before a pause. It returns false for any other error, having written
// nothing.
func (s *Server) renderLoginRefused(ctx context.Context, w http.ResponseWriter, d pageData, clientID string, err error) bool {
	var le *accounts.LoginError
	if !errors.As(err, &le) {
		return false
	}
	switch {
	case errors.Is(err, accounts.ErrLoginThrottled), errors.Is(err, accounts.ErrLoginLocked):
		result, msg := "throttled", msgThrottled
		if errors.Is(err, accounts.ErrLoginLocked) {
			result, msg = "locked", msgAddressLocked
		}
		s.countLogin(ctx, result, clientID)
		d.Error = fmt.Sprintf(d.T[msg], waitText(d.T, le.RetryAfter))
		setRetryAfter(w, le.RetryAfter)
		s.render(w, http.StatusTooManyRequests, s.pages.login, d)
	case errors.Is(err, accounts.ErrLoginDisabled):
		s.countLogin(ctx, "disabled", clientID)
		d.Error = d.T[msgLoginDisabled]
		s.render(w, http.StatusForbidden, s.pages.login, d)
	case errors.Is(err, accounts.ErrLoginFailed):
		s.countLogin(ctx, "failure", clientID)
		var more string
		switch {
		case le.RetryAfter > 0:
			more = fmt.Sprintf(d.T[msgWaitNext], waitText(d.T, le.RetryAfter))
		case le.Remaining == 1:
			more = fmt.Sprintf(d.T[msgAttemptLeft], waitText(d.T, s.firstPause()), waitText(d.T, s.longestPause()))
		case le.Remaining > 1 && le.Remaining <= attemptsWarning:
			more = fmt.Sprintf(d.T[msgAttemptsLeft], le.Remaining, waitText(d.T, s.firstPause()), waitText(d.T, s.longestPause()))
		}
		d.Error = d.T[msgLoginFailed]
		if d.NeedOTP {
			d.Error = d.T[msgLoginFailedOTP]
		}
		if more != "" && d.Lang == langEN {
			d.Error += " " // sentences: a space in English, none after the full-width 。
		}
		d.Error += more
		s.render(w, http.StatusUnauthorized, s.pages.login, d)
	default:
		return false
	}
	return true
}
