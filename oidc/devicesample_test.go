package oidc_test

// This file holds the device-flow sample of docs/developers/app-developers.md (§11).
// TestDeviceGuideSample checks that the guide shows exactly this code, and the device suite's
// ok/guide-sample case signs a TV in with it.

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/oauth2"
)

// BEGIN DEVICE SAMPLE
// signInOnTV signs the person in on a TV or terminal with the device authorization grant
// (RFC 8628). conf is the app's oauth2.Config: ClientID, Scopes and the provider's Endpoint
// (go-oidc's provider.Endpoint() includes DeviceAuthURL from discovery). show puts the user
// code and a QR code of verificationURIComplete on the screen.
func signInOnTV(ctx context.Context, conf *oauth2.Config,
	show func(userCode, verificationURI, verificationURIComplete string)) (*oauth2.Token, error) {
	da, err := conf.DeviceAuth(ctx)
	if err != nil {
		return nil, err
	}
	show(da.UserCode, da.VerificationURI, da.VerificationURIComplete)
	// DeviceAccessToken polls every da.Interval seconds, waits 5 seconds longer after each
	// slow_down, keeps polling on authorization_pending and gives up at da.Expiry.
	tok, err := conf.DeviceAccessToken(ctx, da)
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		switch re.ErrorCode {
		case "access_denied":
			return nil, fmt.Errorf("the person declined on their phone: %w", err)
		case "expired_token":
			return nil, fmt.Errorf("nobody confirmed within 10 minutes; start again: %w", err)
		}
	}
	return tok, err
}

// END DEVICE SAMPLE
