package httpapi

import (
	"context"
	"slices"
)

// Roles a token can carry, as Keystone's default roles.
const (
	RoleAdmin  = "admin"
	RoleMember = "member"
	RoleReader = "reader"
)

// Principal is who is calling: the user and the project the token is scoped to.
type Principal struct {
	UserID      string   `json:"user_id"`
	UserName    string   `json:"user_name"`
	ProjectID   string   `json:"project_id"`
	ProjectName string   `json:"project_name"`
	Roles       []string `json:"roles"`
}

// IsAdmin reports whether the principal holds the admin role (sees every project).
func (p *Principal) IsAdmin() bool { return p != nil && slices.Contains(p.Roles, RoleAdmin) }

// CanWrite reports whether the principal may create, change or delete (admin or member).
func (p *Principal) CanWrite() bool {
	return p != nil && (p.IsAdmin() || slices.Contains(p.Roles, RoleMember))
}

// Sees reports whether the principal may see a resource owned by project.
func (p *Principal) Sees(project string) bool {
	return p != nil && (p.IsAdmin() || p.ProjectID == project)
}

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the caller of an authenticated request (nil on public routes).
func PrincipalFrom(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}
