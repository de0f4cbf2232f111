package oidc

import (
	"crypto/hmac"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tongban/tongban/accounts"
	"github.com/tongban/tongban/internal/httpkit"
	smcrypto "github.com/tongban/tongban/sm-crypto"
)

// Device cookies (OWASP, "Slow Down Online Guessing Attacks with Device Cookies"): after a
// successful login the browser has a long-lived cookie naming the person who logged in. A
// later login attempt for that person from that browser is judged by the device's own
// failures (accounts.CheckAttempt), so someone guessing elsewhere cannot lock the owner out.
//
// The value is five dot-separated fields:
//
//	v1 . person ID . nonce . issued . MAC
//
// person ID is the opaque storage.Person ID; nonce is 128 random bits, base64url (22
// characters), the key of the device's failure counter; issued is the issue time in Unix
// seconds, decimal; MAC is base64url(HMAC-SM3(s.deviceKey, "v1.<person ID>.<nonce>.<issued>")),
// 43 characters. s.deviceKey is HMAC-SM3(keyring.TokenKey, "tongban/oidc/device-cookie"), the
// same on every replica. The cookie is HttpOnly, SameSite=Lax, Path=/, Max-Age
// Config.DeviceCookieLifetime, and Secure with the __Host- prefix on https issuers
// (httpkit.Cookies). It holds no personal data.
const (
	deviceCookieName    = "tb_device"
	deviceCookieVersion = "v1"
	deviceNonceLen      = 22 // base64url of 16 bytes
	deviceClockSkew     = time.Minute
)

// deviceMAC is the MAC field of a device cookie whose first four fields are payload.
func (s *Server) deviceMAC(payload string) string {
	return b64.EncodeToString(smcrypto.HMACSM3(s.deviceKey, []byte(payload)))
}

// renewDeviceCookie gives the browser a new device cookie for personID after a successful
// login, whatever the method, unless the one it presented (dev, issued at issued; from device)
// already names that person and is younger than half of Config.DeviceCookieLifetime — so a
// login from a known device costs one HMAC-SM3 (the check), and its cookie never lapses while
// it is used at least every 90 days.
func (s *Server) renewDeviceCookie(w http.ResponseWriter, personID string, dev accounts.Device, issued time.Time) {
	if dev.PersonID == personID && s.now().Sub(issued) < s.cfg.DeviceCookieLifetime/2 {
		return
	}
	s.setDeviceCookie(w, personID)
}

// setDeviceCookie gives the browser a new device cookie for personID, with a new nonce.
func (s *Server) setDeviceCookie(w http.ResponseWriter, personID string) {
	payload := strings.Join([]string{deviceCookieVersion, personID, httpkit.RandomString(16),
		strconv.FormatInt(s.now().Unix(), 10)}, ".")
	s.cookies.Set(w, deviceCookieName, payload+"."+s.deviceMAC(payload), int(s.cfg.DeviceCookieLifetime/time.Second))
}

// device returns what the browser's device cookie names and when it was issued, or the zero
// accounts.Device when it has none or one that is malformed, forged (MAC), issued in the
// future or older than Config.DeviceCookieLifetime. It costs one HMAC-SM3.
func (s *Server) device(r *http.Request) (accounts.Device, time.Time) {
	v := s.cookies.Value(r, deviceCookieName)
	if v == "" {
		return accounts.Device{}, time.Time{}
	}
	f := strings.Split(v, ".")
	if len(f) != 5 || f[0] != deviceCookieVersion || f[1] == "" || len(f[2]) != deviceNonceLen {
		s.log.InfoContext(r.Context(), "device cookie refused", "reason", "malformed")
		return accounts.Device{}, time.Time{}
	}
	payload := v[:len(v)-len(f[4])-1]
	if !hmac.Equal([]byte(f[4]), []byte(s.deviceMAC(payload))) {
		s.log.InfoContext(r.Context(), "device cookie refused", "reason", "mac")
		return accounts.Device{}, time.Time{}
	}
	issued, err := strconv.ParseInt(f[3], 10, 64)
	now := s.now()
	if err != nil || time.Unix(issued, 0).After(now.Add(deviceClockSkew)) ||
		!now.Before(time.Unix(issued, 0).Add(s.cfg.DeviceCookieLifetime)) {
		s.log.InfoContext(r.Context(), "device cookie refused", "reason", "expired")
		return accounts.Device{}, time.Time{}
	}
	return accounts.Device{PersonID: f[1], ID: f[2]}, time.Unix(issued, 0)
}
