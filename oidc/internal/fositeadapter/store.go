package fositeadapter

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tongban/tongban/oidc/internal/sealed"
	"github.com/tongban/tongban/storage"
)

// Store implements the fosite storage interfaces tongban uses (fosite.Storage,
// oauth2.CoreStorage, oauth2.TokenRevocationStorage) over storage.Clients, storage.Tokens and
// storage.Revocations. Access tokens are sealed, not stored (SealedAccessTokens).
//
// oidc's token endpoint runs each authorization_code and refresh_token request in one database
// transaction (storage.Transactor; the context fosite passes down carries it), committed before
// the response is written: a claim and everything the request issues commit together, and a
// request that fails for a reason of the server rolls the claim back too
// (docs/design/token-transactions.md).
//
// Single use is atomic in the database (DESIGN §6, §8) with storage.InvalidateToken — one
// conditional UPDATE that exactly one concurrent caller wins, holding the row until its
// transaction ends — and the claimed record is remembered in the request's TokenState for
// fosite's later reads:
//
//   - an authorization code is claimed on its first read at the token endpoint;
//   - a refresh token is only read there (GetRefreshTokenSession) and claimed in
//     RotateRefreshToken, after fosite and oidc's Server.handleToken have checked the client, the
//     offline_access grant and the requested scope, so a refresh request refused by those
//     checks leaves the token usable.
//
// Before any of that Server.handleToken has checked the token's HMAC (TokenState.Forged): a
// token made up around a signature read from the database is refused without a database read,
// so it can neither use up the real token nor pass for its reuse.
//
// A concurrent redemption waits on the claimed row until the first transaction ends. If that
// committed, it gets the record back with fosite.ErrInvalidatedAuthorizeCode /
// fosite.ErrInactiveToken (or, for a refresh token claimed concurrently, RotateRefreshToken
// revokes the grant itself), so the answer is invalid_grant and every access and refresh token
// of the grant — the first request's included, committed before — is revoked (RFC 9700 §4.2.4,
// §4.14.2). If the first rolled back, the second claims the record as if it had come first.
type Store struct {
	store   storage.Storage
	sealer  *sealed.Sealer
	clients *ClientCache
	now     func() time.Time
	log     *slog.Logger
	replays *prometheus.CounterVec // by kind: authorization_code, refresh_token

	codeLifetime, accessLifetime, refreshLifetime time.Duration
}

// StoreConfig configures NewStore. Every field is required.
type StoreConfig struct {
	Storage storage.Storage
	// Sealer opens sealed access tokens: TokenStrategy.Sealer of the provider's strategy.
	Sealer  *sealed.Sealer
	Clients *ClientCache
	Now     func() time.Time // the clock of expiry times
	Logger  *slog.Logger
	// Replays counts replayed authorization codes and reused refresh tokens by kind
	// ("authorization_code", "refresh_token"): tongban_idp_replays_total.
	Replays *prometheus.CounterVec

	// CodeLifetime, AccessTokenLifetime and RefreshTokenLifetime are the lifetimes of new
	// records (oidc.Config's).
	CodeLifetime, AccessTokenLifetime, RefreshTokenLifetime time.Duration
}

// NewStore returns the fosite storage adapter of c.
func NewStore(c StoreConfig) *Store {
	return &Store{store: c.Storage, sealer: c.Sealer, clients: c.Clients, now: c.Now, log: c.Logger, replays: c.Replays,
		codeLifetime: c.CodeLifetime, accessLifetime: c.AccessTokenLifetime, refreshLifetime: c.RefreshTokenLifetime}
}

var (
	_ fosite.Storage                = (*Store)(nil)
	_ oauth2.CoreStorage            = (*Store)(nil)
	_ oauth2.TokenRevocationStorage = (*Store)(nil)
)

// ErrSessionType: a fosite request carries a session that is not a *Session.
var ErrSessionType = errors.New("oidc: fosite session is not an oidc session")

// TokenState is per token (or revocation) request: whether the presented token failed its
// HMAC check, and which code or refresh token this request has read and claimed. oidc's
// token and revocation endpoints make one (WithTokenState) and read it after fosite is done.
type TokenState struct {
	// Forged: the presented token does not carry a valid HMAC; every token read answers
	// fosite.ErrNotFound without touching the database.
	Forged bool
	// Revocation: the request is an RFC 7009 revocation. A token that is already inactive —
	// a refresh token superseded by a rotation, an access token of a revoked generation — is
	// still read (it is authentic, Forged is false), so that revoking it revokes its grant:
	// a client holding a stale token can still log the person out.
	Revocation bool
	// StorageErr is the first storage failure of a revocation; fosite reports it only as
	// temporarily_unavailable, without its cause.
	StorageErr error

	CodeSig string
	Code    *fosite.Request

	RefreshGrant   bool
	RefreshSig     string
	Refresh        *fosite.Request // read (active) by GetRefreshTokenSession
	RefreshClaimed bool            // claimed by RotateRefreshToken
	RefreshReused  bool            // lost the claim to a concurrent request: a reuse
	// NextGen is the generation of the tokens a refresh issues (AdvanceGeneration): the
	// presented refresh token's plus one. RotateRefreshToken revokes the access tokens below
	// it.
	NextGen int64
	// RefreshScope: the grant's original scope when the request narrowed the new access
	// token's scope (oidc's narrowRefreshScope); the rotated refresh token is stored with it.
	RefreshScope fosite.Arguments
}

// revoking reports whether st is that of a revocation request (nil-safe).
func (st *TokenState) revoking() bool { return st != nil && st.Revocation }

// noteStorageErr keeps the first storage failure of a revocation (nil-safe; nil err is ignored).
func (st *TokenState) noteStorageErr(err error) {
	if st != nil && st.Revocation && err != nil && st.StorageErr == nil {
		st.StorageErr = err
	}
}

type tokenStateKey struct{}

// WithTokenState returns ctx carrying st, for the Store methods fosite calls with it.
func WithTokenState(ctx context.Context, st *TokenState) context.Context {
	return context.WithValue(ctx, tokenStateKey{}, st)
}

func tokenStateFrom(ctx context.Context) *TokenState {
	st, _ := ctx.Value(tokenStateKey{}).(*TokenState)
	return st
}

// fositeErr maps storage errors to the fosite errors its handlers test for.
func fositeErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, storage.ErrNotFound):
		return fmt.Errorf("%w: %w", fosite.ErrNotFound, err)
	case errors.Is(err, storage.ErrAlreadyUsed):
		return fmt.Errorf("%w: %w", fosite.ErrInactiveToken, err)
	}
	return err
}

// GetClient implements fosite.ClientManager.
func (s *Store) GetClient(ctx context.Context, id string) (fosite.Client, error) {
	c, err := s.clients.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// ClientAssertionJWTValid implements fosite.ClientManager. tongban does not accept client
// assertions (private_key_jwt), so no jti is ever known.
func (s *Store) ClientAssertionJWTValid(context.Context, string) error { return nil }

// SetClientAssertionJWT implements fosite.ClientManager (unused, see ClientAssertionJWTValid).
func (s *Store) SetClientAssertionJWT(ctx context.Context, jti string, exp time.Time) error {
	return s.store.UseNonce(ctx, "client_assertion", jti, exp)
}

// create stores r under (kind, sig).
func (s *Store) create(ctx context.Context, kind storage.TokenKind, sig string, r fosite.Requester, exp time.Time) error {
	data, sess, err := encodeRequest(r)
	if err != nil {
		return err
	}
	return s.store.CreateToken(ctx, storage.TokenRecord{
		Kind:        kind,
		Signature:   sig,
		RequestID:   r.GetID(),
		ClientID:    r.GetClient().GetID(),
		Subject:     sess.PersonID,
		Active:      true,
		RequestedAt: s.now(),
		ExpiresAt:   exp,
		Data:        data,
	})
}

// load reads and decodes the record (kind, sig), active or not.
func (s *Store) load(ctx context.Context, kind storage.TokenKind, sig string) (*fosite.Request, *Session, bool, error) {
	if sig == "" {
		return nil, nil, false, fosite.ErrNotFound
	}
	rec, err := s.store.GetToken(ctx, kind, sig)
	if err != nil {
		return nil, nil, false, fositeErr(err)
	}
	c, err := s.clients.Get(ctx, rec.ClientID)
	if err != nil {
		return nil, nil, false, fositeErr(err)
	}
	req, sess, err := decodeRequest(rec.Data, c)
	if err != nil {
		return nil, nil, false, fmt.Errorf("oidc: decode %s record: %w", kind, err)
	}
	return req, sess, rec.Active, nil
}

// hydrate copies the stored session into the session fosite passed in: fosite validates the
// code against the access request's session before it adopts the stored one.
func hydrate(dst fosite.Session, src fosite.Session) {
	d, ok1 := dst.(*Session)
	s, ok2 := src.(*Session)
	if ok1 && ok2 && d != s {
		*d = *s
		d.idClaims, d.idHeaders = nil, nil
	}
}

// CreateAuthorizeCodeSession implements oauth2.AuthorizeCodeStorage. The code expires
// StoreConfig.CodeLifetime after StoreConfig.Now.
func (s *Store) CreateAuthorizeCodeSession(ctx context.Context, sig string, r fosite.Requester) error {
	sess, ok := r.GetSession().(*Session)
	if !ok {
		return ErrSessionType
	}
	exp := s.now().Add(s.codeLifetime)
	sess.CodeExp = exp.UnixNano()
	return s.create(ctx, storage.KindAuthorizeCode, sig, r, exp)
}

// GetAuthorizeCodeSession implements oauth2.AuthorizeCodeStorage; see Store for how
// the token endpoint claims the code atomically on its first read.
func (s *Store) GetAuthorizeCodeSession(ctx context.Context, sig string, hs fosite.Session) (fosite.Requester, error) {
	st := tokenStateFrom(ctx)
	if st == nil {
		req, _, active, err := s.load(ctx, storage.KindAuthorizeCode, sig)
		if err != nil {
			return nil, err
		}
		if !active {
			return req, fosite.ErrInvalidatedAuthorizeCode
		}
		hydrate(hs, req.Session)
		return req, nil
	}
	if st.Code != nil && st.CodeSig == sig {
		hydrate(hs, st.Code.Session)
		return st.Code, nil
	}
	if sig == "" || st.Forged {
		return nil, fosite.ErrNotFound
	}
	err := s.store.InvalidateToken(ctx, storage.KindAuthorizeCode, sig)
	switch {
	case err == nil:
		req, _, _, err := s.load(ctx, storage.KindAuthorizeCode, sig)
		if err != nil {
			return nil, err
		}
		st.CodeSig, st.Code = sig, req
		hydrate(hs, req.Session)
		return req, nil
	case errors.Is(err, storage.ErrAlreadyUsed):
		req, _, _, lerr := s.load(ctx, storage.KindAuthorizeCode, sig)
		if lerr != nil {
			return nil, lerr
		}
		// The grant's row first (see RotateRefreshToken); fosite revokes the rest of the grant
		// when it gets ErrInvalidatedAuthorizeCode.
		if err := s.store.RevokeGrant(ctx, req.GetID(), storage.RevokedAll, s.revocationExpiry()); err != nil {
			return nil, err
		}
		// A redemption that failed (wrong PKCE verifier, wrong redirect_uri…) used the code
		// up and marked it (MarkFailedRedemption); a retry is that, not a replay of a
		// successful redemption. The revocation is the same either way.
		uerr := s.store.UseNonce(ctx, nsFailedCode, sig, s.now().Add(s.codeLifetime))
		switch {
		case errors.Is(uerr, storage.ErrAlreadyUsed):
			s.log.InfoContext(ctx, "authorization code used after a failed redemption; revoking its tokens",
				"client_id", req.GetClient().GetID(), "request_id", req.GetID())
		case uerr != nil:
			return nil, uerr // the transaction cannot go on
		default:
			s.log.WarnContext(ctx, "authorization code replayed; revoking its tokens",
				"client_id", req.GetClient().GetID(), "request_id", req.GetID())
		}
		if err := s.audit(ctx, "code.replay", req); err != nil {
			return nil, err
		}
		s.replays.WithLabelValues("authorization_code").Inc()
		return req, fosite.ErrInvalidatedAuthorizeCode
	default:
		return nil, fositeErr(err)
	}
}

// InvalidateAuthorizeCodeSession implements oauth2.AuthorizeCodeStorage. At the token endpoint
// the code was already claimed by GetAuthorizeCodeSession, so this is a no-op there.
func (s *Store) InvalidateAuthorizeCodeSession(ctx context.Context, sig string) error {
	if st := tokenStateFrom(ctx); st != nil && st.CodeSig == sig && st.Code != nil {
		return nil
	}
	return fositeErr(s.store.InvalidateToken(ctx, storage.KindAuthorizeCode, sig))
}

// CreateAccessTokenSession implements oauth2.AccessTokenStorage. A sealed access token has no
// signature (TokenStrategy.GenerateAccessToken returns "") and nothing to store; a JWT access
// token is stored under its JWS signature.
func (s *Store) CreateAccessTokenSession(ctx context.Context, sig string, r fosite.Requester) error {
	if sig == "" {
		return nil
	}
	exp := r.GetSession().GetExpiresAt(fosite.AccessToken)
	if exp.IsZero() {
		exp = s.now().Add(s.accessLifetime)
		r.GetSession().SetExpiresAt(fosite.AccessToken, exp)
	}
	return s.create(ctx, storage.KindAccessToken, sig, r, exp)
}

// GetAccessTokenSession implements oauth2.AccessTokenStorage: fosite.ErrNotFound for an
// unknown token, fosite.ErrInactiveToken (with the request) for a revoked one. sig is a sealed
// token itself (TokenStrategy.AccessTokenSignature), opened and checked against the revoked-grant
// list, or the signature of a stored one.
func (s *Store) GetAccessTokenSession(ctx context.Context, sig string, _ fosite.Session) (fosite.Requester, error) {
	if st := tokenStateFrom(ctx); st != nil && st.Forged {
		return nil, fosite.ErrNotFound
	}
	var req fosite.Requester
	var err error
	if s.sealer.Has(sig) {
		req, err = s.openAccessToken(ctx, sig)
	} else {
		var active bool
		req, _, active, err = s.load(ctx, storage.KindAccessToken, sig)
		if err == nil && !active {
			err = fosite.ErrInactiveToken
		}
	}
	if err == nil {
		err = s.checkParentGrant(ctx, req)
	}
	if errors.Is(err, fosite.ErrInactiveToken) && tokenStateFrom(ctx).revoking() {
		return req, nil
	}
	if err != nil && !errors.Is(err, fosite.ErrNotFound) && !errors.Is(err, fosite.ErrInactiveToken) {
		tokenStateFrom(ctx).noteStorageErr(err)
	}
	return req, err
}

// checkParentGrant makes a token issued by token exchange inactive (fosite.ErrInactiveToken)
// once the grant of the subject token it was made from is revoked at or above the subject
// token's generation (Session.Parent): revoking the citizen's token, a reused refresh token,
// a refresh of the citizen's grant or a withdrawn agent authorisation reaches the tokens
// exchanged from it. nil for other tokens.
func (s *Store) checkParentGrant(ctx context.Context, req fosite.Requester) error {
	sess, ok := req.GetSession().(*Session)
	if !ok || sess.Parent == "" {
		return nil
	}
	below, err := s.store.GrantRevokedBelow(ctx, sess.Parent)
	if err != nil {
		return err
	}
	if sess.ParentGen < below {
		return fosite.ErrInactiveToken
	}
	return nil
}

// DeleteAccessTokenSession implements oauth2.AccessTokenStorage.
func (s *Store) DeleteAccessTokenSession(ctx context.Context, sig string) error {
	return fositeErr(s.store.DeleteToken(ctx, storage.KindAccessToken, sig))
}

// CreateRefreshTokenSession implements oauth2.RefreshTokenStorage. A refresh request that
// narrowed the access token's scope (oidc's narrowRefreshScope) still rotates to a refresh token of
// the original grant's scope (RFC 6749 §6).
func (s *Store) CreateRefreshTokenSession(ctx context.Context, sig, _ string, r fosite.Requester) error {
	if st := tokenStateFrom(ctx); st != nil && st.RefreshGrant && st.RefreshScope != nil {
		req, ok := r.(*fosite.Request)
		if !ok {
			return fosite.ErrServerError.WithHint("unexpected request type")
		}
		full := *req
		full.GrantedScope = slices.Clone(st.RefreshScope)
		r = &full
	}
	exp := r.GetSession().GetExpiresAt(fosite.RefreshToken)
	if exp.IsZero() {
		exp = s.now().Add(s.refreshLifetime)
		r.GetSession().SetExpiresAt(fosite.RefreshToken, exp)
	}
	return s.create(ctx, storage.KindRefreshToken, sig, r, exp)
}

// GetRefreshTokenSession implements oauth2.RefreshTokenStorage. A token that is already
// inactive comes back with fosite.ErrInactiveToken, which makes fosite revoke the whole family
// (RefreshTokenGrantHandler.handleRefreshTokenReuse). In a refresh_token grant the token is
// only read here and remembered in the TokenState; RotateRefreshToken claims it (see
// Store).
func (s *Store) GetRefreshTokenSession(ctx context.Context, sig string, _ fosite.Session) (fosite.Requester, error) {
	st := tokenStateFrom(ctx)
	if st != nil && st.Forged {
		return nil, fosite.ErrNotFound
	}
	if st != nil && st.RefreshGrant && st.Refresh != nil && st.RefreshSig == sig {
		return st.Refresh, nil
	}
	req, _, active, err := s.load(ctx, storage.KindRefreshToken, sig)
	if err != nil {
		if !errors.Is(err, fosite.ErrNotFound) {
			st.noteStorageErr(err)
		}
		return nil, err
	}
	if !active && st.revoking() {
		return req, nil
	}
	if !active {
		if st != nil && st.RefreshGrant {
			if err := s.reused(ctx, req); err != nil {
				return nil, err
			}
		}
		return req, fosite.ErrInactiveToken
	}
	if st != nil && st.RefreshGrant {
		st.RefreshSig, st.Refresh = sig, req
	}
	return req, nil
}

// nsReusedFamily is the storage.Nonces namespace marking refresh-token families (request IDs)
// already revoked for a reuse.
const nsReusedFamily = "refresh-reused"

// reused logs, counts and audits the reuse of a refresh token, once per family: the family's
// other tokens are inactive after its revocation, so presenting one of them — the newest
// refresh token, say, when the legitimate client refreshes after an attacker's reuse, or
// another of several concurrent reuses — reaches GetRefreshTokenSession's or
// RotateRefreshToken's reuse branch again with the same request ID. Those later presentations
// are logged at info level only (fosite revokes the family again; that changes nothing).
// A storage error is returned: the request's transaction cannot go on after it.
func (s *Store) reused(ctx context.Context, req fosite.Requester) error {
	below, err := s.store.GrantRevokedBelow(ctx, req.GetID())
	if err != nil {
		return err
	}
	// The grant's row first (see RotateRefreshToken), then the mark and the audit: every
	// transaction takes them in this order, so concurrent reuses queue instead of deadlocking.
	if err := s.store.RevokeGrant(ctx, req.GetID(), storage.RevokedAll, s.revocationExpiry()); err != nil {
		return err
	}
	if below == storage.RevokedAll {
		// Revoked (a logout, RFC 7009), or already revoked for a reuse: not a new theft.
		s.log.InfoContext(ctx, "refresh token of a revoked grant presented",
			"client_id", req.GetClient().GetID(), "request_id", req.GetID())
		return nil
	}
	err = s.store.UseNonce(ctx, nsReusedFamily, req.GetID(), s.now().Add(s.refreshLifetime))
	if errors.Is(err, storage.ErrAlreadyUsed) {
		s.log.InfoContext(ctx, "refresh token of a family revoked for reuse presented",
			"client_id", req.GetClient().GetID(), "request_id", req.GetID())
		return nil
	}
	if err != nil {
		return err
	}
	if err := s.audit(ctx, "refresh.reuse", req); err != nil {
		return err
	}
	s.log.WarnContext(ctx, "refresh token reused; revoking its family",
		"client_id", req.GetClient().GetID(), "request_id", req.GetID())
	s.replays.WithLabelValues("refresh_token").Inc()
	return nil
}

// DeleteRefreshTokenSession implements oauth2.RefreshTokenStorage. fosite calls it for a
// reused refresh token before it revokes the family (RefreshTokenGrantHandler's reuse path);
// at the token endpoint the inactive record is kept instead, so that every later presentation
// is still recognised as a reuse, and concurrent reuses do not fail on each other's deletion.
// Elsewhere the record is deleted; one already gone is not an error.
func (s *Store) DeleteRefreshTokenSession(ctx context.Context, sig string) error {
	if st := tokenStateFrom(ctx); st != nil && st.RefreshGrant {
		return nil
	}
	err := s.store.DeleteToken(ctx, storage.KindRefreshToken, sig)
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	return err
}

// AdvanceGeneration gives the refresh request ar — whose presented refresh token
// GetRefreshTokenSession read into st — the next generation of its grant, so the tokens it
// issues carry it and RotateRefreshToken revokes the access tokens issued before.
func AdvanceGeneration(ar fosite.Requester, st *TokenState) {
	sess, ok := ar.GetSession().(*Session)
	if !ok || st == nil || st.Refresh == nil {
		return
	}
	prev, _ := st.Refresh.GetSession().(*Session)
	if prev != nil {
		sess.Gen = prev.Gen + 1
	}
	st.NextGen = sess.Gen
}

// RotateRefreshToken implements oauth2.RefreshTokenStorage: fosite calls it once every check
// of a refresh request has passed, before it stores the successor tokens. It claims the
// presented refresh token (storage.InvalidateToken), which stays as an inactive record so a
// later reuse is detected, and revokes the access tokens issued before the rotation (the
// generations below TokenState.NextGen). A request that loses the claim to a concurrent one is
// a reuse: it revokes the grant (as fosite does for a reuse, see Store) and fails.
func (s *Store) RotateRefreshToken(ctx context.Context, requestID, sig string) error {
	st := tokenStateFrom(ctx)
	// The grant's row in the revoked-grant list first: every transaction that changes a
	// grant's tokens (a refresh, a revocation, the answer to a reuse) writes it before anything
	// else, so on PostgreSQL they queue on that row, and each one's later statements see what
	// the one before committed (a revocation racing a refresh revokes the refresh's successor
	// too). A refresh that then loses its claim raises it to RevokedAll below.
	below := storage.RevokedAll
	if st != nil && st.RefreshGrant {
		below = st.NextGen
	}
	if err := s.store.RevokeGrant(ctx, requestID, below, s.revocationExpiry()); err != nil {
		return err
	}
	err := s.store.InvalidateToken(ctx, storage.KindRefreshToken, sig)
	if st != nil && st.RefreshGrant && st.RefreshSig == sig && st.Refresh != nil {
		switch {
		case err == nil:
			st.RefreshClaimed = true
		case errors.Is(err, storage.ErrAlreadyUsed):
			st.RefreshReused = true
			if rerr := s.reused(ctx, st.Refresh); rerr != nil {
				return rerr
			}
			if rerr := s.RevokeGrant(ctx, requestID); rerr != nil {
				return rerr
			}
			return fositeErr(err)
		default:
			return err
		}
	} else if err != nil {
		return fositeErr(err)
	}
	// The sealed access tokens below the new generation were revoked with the grant's row
	// above; the stored ones (JWT, pre-sealing opaque tokens) go now.
	_, err = s.store.RevokeByRequestID(ctx, storage.KindAccessToken, requestID)
	return err
}

// RevokeRefreshToken implements oauth2.TokenRevocationStorage (RFC 7009 §2.1): every refresh
// token of the grant becomes inactive. The grant's row of the revoked-grant list is written
// first (see RotateRefreshToken), marking all its access tokens revoked too.
func (s *Store) RevokeRefreshToken(ctx context.Context, requestID string) error {
	err := s.store.RevokeGrant(ctx, requestID, storage.RevokedAll, s.revocationExpiry())
	if err == nil {
		_, err = s.store.RevokeByRequestID(ctx, storage.KindRefreshToken, requestID)
	}
	tokenStateFrom(ctx).noteStorageErr(err)
	return err
}

// RevokeAccessToken implements oauth2.TokenRevocationStorage: every access token of the
// grant becomes inactive, the stored ones and the sealed ones (through the revoked-grant list).
func (s *Store) RevokeAccessToken(ctx context.Context, requestID string) error {
	err := s.revokeAccessTokens(ctx, requestID, storage.RevokedAll)
	tokenStateFrom(ctx).noteStorageErr(err)
	return err
}

// RevokeGrant revokes every access and refresh token of a grant.
func (s *Store) RevokeGrant(ctx context.Context, requestID string) error {
	return errors.Join(s.RevokeRefreshToken(ctx, requestID), s.RevokeAccessToken(ctx, requestID))
}

// audit appends an audit event about a grant, in the request's transaction: an error is
// returned (the transaction cannot go on after it, and the event must not be lost).
func (s *Store) audit(ctx context.Context, action string, req fosite.Requester) error {
	return s.AuditGrant(ctx, action, req, "request "+req.GetID())
}

// AuditGrant appends the audit event action about the grant of req: the client as actor, the
// person of its session (none for client credentials) as subject, and detail. It joins the
// transaction ctx carries; the storage error is returned.
func (s *Store) AuditGrant(ctx context.Context, action string, req fosite.Requester, detail string) error {
	subject := ""
	if sess, ok := req.GetSession().(*Session); ok {
		subject = sess.PersonID
	}
	_, err := s.store.AppendAudit(ctx, storage.AuditEvent{
		Time: s.now(), Actor: req.GetClient().GetID(), Action: action, Subject: subject,
		ClientID: req.GetClient().GetID(), Detail: detail,
	})
	return err
}

// nsFailedCode is the storage.Nonces namespace marking authorization codes whose redemption
// failed after the code was claimed.
const nsFailedCode = "code-failed"

// MarkFailedRedemption records that the code claimed by this token request was used up by a
// failed redemption, so a retry is logged as such rather than as a replay.
//
// A storage error is returned: the request's transaction cannot go on after it.
func (s *Store) MarkFailedRedemption(ctx context.Context, st *TokenState) error {
	if st == nil || st.Code == nil {
		return nil
	}
	err := s.store.UseNonce(ctx, nsFailedCode, st.CodeSig, s.now().Add(s.codeLifetime))
	if errors.Is(err, storage.ErrAlreadyUsed) {
		return nil
	}
	return err
}
