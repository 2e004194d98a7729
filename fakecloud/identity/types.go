package identity

import "time"

// DefaultDomain is the only domain fakecloud has, as in a default Keystone install.
const DefaultDomain = "default"

// Project is a Keystone project: the unit of isolation of every other service's resources.
type Project struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	DomainID    string `json:"domain_id"`
	Enabled     bool   `json:"enabled"`
}

// User is a Keystone user with its password hash and role assignments per project id.
type User struct {
	ID               string              `json:"id"`
	Name             string              `json:"name"`
	DomainID         string              `json:"domain_id"`
	Enabled          bool                `json:"enabled"`
	DefaultProjectID string              `json:"default_project_id,omitempty"`
	PasswordHash     string              `json:"password_hash"` // hex sha256 of salt+password
	Salt             string              `json:"salt"`
	Roles            map[string][]string `json:"roles"` // project id -> role names
}

// AppCredential is an application credential: a secret bound to one user, one project and a
// subset of the user's roles there.
type AppCredential struct {
	ID          string     `json:"id"`
	Name        string     `json:"name"`
	Description string     `json:"description"`
	UserID      string     `json:"user_id"`
	ProjectID   string     `json:"project_id"`
	Roles       []string   `json:"roles"`
	SecretHash  string     `json:"secret_hash"`
	Salt        string     `json:"salt"`
	ExpiresAt   *time.Time `json:"expires_at,omitempty"`
}

// Revoked records a token revoked before its expiry (DELETE /v3/auth/tokens).
type Revoked struct {
	AuditID   string    `json:"audit_id"`
	ExpiresAt time.Time `json:"expires_at"`
}

// Secret is the token-signing key, kept in the store so tokens survive restarts.
type Secret struct {
	Key string `json:"key"`
}

// tokenClaims is what a token carries, signed.
type tokenClaims struct {
	UserID    string    `json:"u"`
	ProjectID string    `json:"p"`
	Roles     []string  `json:"r"`
	Methods   []string  `json:"m"`
	AppCred   string    `json:"a,omitempty"`
	IssuedAt  time.Time `json:"i"`
	ExpiresAt time.Time `json:"e"`
	AuditID   string    `json:"x"`
}
