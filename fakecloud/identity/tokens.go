package identity

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kaas-sandbox/sandbox/fakecloud/httpapi"
)

// sign encodes claims as "<payload>.<hmac>", both base64url.
func (s *Service) sign(c tokenClaims) (string, error) {
	payload, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("encoding token: %w", err)
	}
	mac := hmac.New(sha256.New, s.key)
	mac.Write(payload)
	return base64.RawURLEncoding.EncodeToString(payload) + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil)), nil
}

// verify checks a token's signature, expiry and revocation, and returns its claims.
func (s *Service) verify(token string) (tokenClaims, error) {
	var c tokenClaims
	p, sig, ok := strings.Cut(token, ".")
	if !ok || len(token) > 4096 {
		return c, errors.New("malformed token")
	}
	payload, err1 := base64.RawURLEncoding.DecodeString(p)
	got, err2 := base64.RawURLEncoding.DecodeString(sig)
	if err1 != nil || err2 != nil {
		return c, errors.New("malformed token")
	}
	mac := hmac.New(sha256.New, s.key)
	mac.Write(payload)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return c, errors.New("token signature does not match (was it issued by another fakecloud?)")
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		return c, errors.New("malformed token")
	}
	if s.now().After(c.ExpiresAt) {
		return c, fmt.Errorf("token expired at %s", c.ExpiresAt.Format(time.RFC3339))
	}
	if _, revoked := s.revoked.Get(c.AuditID); revoked {
		return c, errors.New("token has been revoked")
	}
	return c, nil
}

// Authenticate implements httpapi.Authenticator: it validates a token and returns who it is.
// Roles are those frozen into the token, as Keystone's tokens carry them.
func (s *Service) Authenticate(token string) (*httpapi.Principal, error) {
	c, err := s.verify(token)
	if err != nil {
		return nil, err
	}
	u, ok := s.users.Get(c.UserID)
	if !ok || !u.Enabled {
		return nil, errors.New("the token's user no longer exists or is disabled")
	}
	p, ok := s.projects.Get(c.ProjectID)
	if !ok || !p.Enabled {
		return nil, errors.New("the token's project no longer exists or is disabled")
	}
	return &httpapi.Principal{UserID: u.ID, UserName: u.Name, ProjectID: p.ID, ProjectName: p.Name, Roles: c.Roles}, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func hashSecret(salt, secret string) string {
	h := sha256.Sum256([]byte(salt + "\x00" + secret))
	return hex.EncodeToString(h[:])
}

func checkSecret(salt, hash, secret string) bool {
	return hmac.Equal([]byte(hashSecret(salt, secret)), []byte(hash))
}
