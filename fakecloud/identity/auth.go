package identity

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/kaas-sandbox/sandbox/fakecloud/httpapi"
	"github.com/kaas-sandbox/sandbox/fakecloud/store"
)

type domainRef struct {
	ID   string `json:"id,omitempty"`
	Name string `json:"name,omitempty"`
}

type userRef struct {
	ID       string     `json:"id,omitempty"`
	Name     string     `json:"name,omitempty"`
	Domain   *domainRef `json:"domain,omitempty"`
	Password string     `json:"password,omitempty"`
}

type authRequest struct {
	Auth *struct {
		Identity *struct {
			Methods  []string `json:"methods"`
			Password *struct {
				User *userRef `json:"user"`
			} `json:"password"`
			Token *struct {
				ID string `json:"id"`
			} `json:"token"`
			AppCred *struct {
				ID     string   `json:"id"`
				Name   string   `json:"name"`
				Secret string   `json:"secret"`
				User   *userRef `json:"user"`
			} `json:"application_credential"`
		} `json:"identity"`
		Scope any `json:"scope"`
	} `json:"auth"`
}

type projectScope struct {
	Project *struct {
		ID     string     `json:"id"`
		Name   string     `json:"name"`
		Domain *domainRef `json:"domain"`
	} `json:"project"`
}

func unauthorized(format string, args ...any) *httpapi.Error {
	return httpapi.Errorf(http.StatusUnauthorized, "Unauthorized", format, args...)
}

// issueToken handles POST /v3/auth/tokens.
func (s *Service) issueToken(w http.ResponseWriter, r *http.Request) error {
	var req authRequest
	if err := httpapi.Decode(r, &req); err != nil {
		return err
	}
	if req.Auth == nil || req.Auth.Identity == nil || len(req.Auth.Identity.Methods) == 0 {
		return httpapi.BadRequest("Invalid input for field 'identity': 'methods' is a required property")
	}
	id := req.Auth.Identity
	var (
		user    User
		claims  tokenClaims
		scoped  string // project id asked for, "" for the default
		appCred *AppCredential
	)
	switch id.Methods[0] {
	case "password":
		if id.Password == nil || id.Password.User == nil {
			return httpapi.BadRequest("Invalid input for field 'identity/password/user': a user is required")
		}
		u, err := s.findUser(id.Password.User)
		if err != nil {
			return err
		}
		if !checkSecret(u.Salt, u.PasswordHash, id.Password.User.Password) {
			return unauthorized("The request you have made requires authentication.")
		}
		user = u
	case "token":
		if id.Token == nil || id.Token.ID == "" {
			return httpapi.BadRequest("Invalid input for field 'identity/token/id': a token id is required")
		}
		c, err := s.verify(id.Token.ID)
		if err != nil {
			return unauthorized("The request you have made requires authentication: %v", err)
		}
		u, ok := s.users.Get(c.UserID)
		if !ok {
			return unauthorized("The request you have made requires authentication.")
		}
		user, scoped = u, c.ProjectID
	case "application_credential":
		ac := id.AppCred
		if ac == nil || ac.Secret == "" || (ac.ID == "" && (ac.Name == "" || ac.User == nil)) {
			return httpapi.BadRequest("Invalid input for field 'identity/application_credential': id and secret, or name, user and secret are required")
		}
		a, ok := s.appcreds.Get(ac.ID)
		if ac.ID == "" {
			u, err := s.findUser(ac.User)
			if err != nil {
				return err
			}
			for _, c := range s.appcreds.List(func(_ string, c *AppCredential) bool { return c.UserID == u.ID && c.Name == ac.Name }) {
				a, ok = c, true
			}
		}
		if !ok || !checkSecret(a.Salt, a.SecretHash, ac.Secret) {
			return unauthorized("The request you have made requires authentication.")
		}
		if a.ExpiresAt != nil && s.now().After(*a.ExpiresAt) {
			return unauthorized("The application credential %s has expired.", a.ID)
		}
		if req.Auth.Scope != nil {
			return unauthorized("Application credentials cannot request a scope.")
		}
		u, ok := s.users.Get(a.UserID)
		if !ok {
			return unauthorized("The request you have made requires authentication.")
		}
		user, scoped, appCred = u, a.ProjectID, &a
	default:
		return unauthorized("Attempted to authenticate with an unsupported method %q.", id.Methods[0])
	}
	if !user.Enabled {
		return unauthorized("The account is disabled for user: %s.", user.ID)
	}
	if req.Auth.Scope != nil && appCred == nil {
		pid, err := s.scopeProject(req.Auth.Scope)
		if err != nil {
			return err
		}
		scoped = pid
	}
	if scoped == "" {
		scoped = user.DefaultProjectID
	}
	project, ok := s.projects.Get(scoped)
	if !ok || !project.Enabled {
		return unauthorized("Could not find project: %s.", scoped)
	}
	roles := user.Roles[project.ID]
	if appCred != nil {
		roles = slices.DeleteFunc(slices.Clone(appCred.Roles), func(r string) bool { return !slices.Contains(user.Roles[project.ID], r) })
	}
	if len(roles) == 0 {
		return unauthorized("User %s has no access to project %s.", user.ID, project.ID)
	}
	now := s.now()
	claims = tokenClaims{UserID: user.ID, ProjectID: project.ID, Roles: roles, Methods: id.Methods[:1], IssuedAt: now, ExpiresAt: now.Add(s.opts.TokenTTL), AuditID: uuid.NewString()}
	if appCred != nil {
		claims.AppCred = appCred.ID
		if appCred.ExpiresAt != nil && appCred.ExpiresAt.Before(claims.ExpiresAt) {
			claims.ExpiresAt = *appCred.ExpiresAt
		}
	}
	tok, err := s.sign(claims)
	if err != nil {
		return err
	}
	w.Header().Set("X-Subject-Token", tok)
	httpapi.WriteJSON(w, http.StatusCreated, map[string]any{"token": s.tokenBody(r, claims)})
	return nil
}

func (s *Service) findUser(ref *userRef) (User, error) {
	if ref.Domain != nil && ref.Domain.ID != "" && ref.Domain.ID != DefaultDomain {
		return User{}, unauthorized("Could not find domain: %s.", ref.Domain.ID)
	}
	if ref.Domain != nil && ref.Domain.Name != "" && ref.Domain.Name != "Default" {
		return User{}, unauthorized("Could not find domain: %s.", ref.Domain.Name)
	}
	if ref.ID != "" {
		if u, ok := s.users.Get(ref.ID); ok {
			return u, nil
		}
		return User{}, unauthorized("The request you have made requires authentication.")
	}
	if u, ok := s.UserByName(ref.Name); ok {
		return u, nil
	}
	return User{}, unauthorized("The request you have made requires authentication.")
}

func (s *Service) scopeProject(scope any) (string, error) {
	m, ok := scope.(map[string]any)
	if !ok {
		if scope == "unscoped" {
			return "", nil
		}
		return "", httpapi.BadRequest("Invalid input for field 'scope': expected an object")
	}
	if _, sys := m["system"]; sys {
		return "", unauthorized("System-scoped tokens are not supported by fakecloud; scope to a project.")
	}
	if _, dom := m["domain"]; dom {
		return "", unauthorized("Domain-scoped tokens are not supported by fakecloud; scope to a project.")
	}
	raw, ok := m["project"].(map[string]any)
	if !ok {
		return "", httpapi.BadRequest("Invalid input for field 'scope/project': expected an object")
	}
	if id, _ := raw["id"].(string); id != "" {
		return id, nil
	}
	name, _ := raw["name"].(string)
	if name == "" {
		return "", httpapi.BadRequest("Invalid input for field 'scope/project': an id or a name is required")
	}
	p, ok := s.ProjectByName(name)
	if !ok {
		return "", unauthorized("Could not find project: %s.", name)
	}
	return p.ID, nil
}

func roleID(name string) string {
	h := sha256.Sum256([]byte("role:" + name))
	return hex.EncodeToString(h[:16])
}

func (s *Service) tokenBody(r *http.Request, c tokenClaims) map[string]any {
	u, _ := s.users.Get(c.UserID)
	p, _ := s.projects.Get(c.ProjectID)
	domain := map[string]any{"id": DefaultDomain, "name": "Default"}
	roles := make([]map[string]string, 0, len(c.Roles))
	for _, name := range c.Roles {
		roles = append(roles, map[string]string{"id": roleID(name), "name": name})
	}
	body := map[string]any{
		"methods":    c.Methods,
		"user":       map[string]any{"id": u.ID, "name": u.Name, "domain": domain, "password_expires_at": nil},
		"project":    map[string]any{"id": p.ID, "name": p.Name, "domain": domain},
		"roles":      roles,
		"catalog":    s.catalog(r),
		"expires_at": c.ExpiresAt.Format("2006-01-02T15:04:05.000000Z"),
		"issued_at":  c.IssuedAt.Format("2006-01-02T15:04:05.000000Z"),
		"audit_ids":  []string{c.AuditID},
		"is_domain":  false,
	}
	if c.AppCred != "" {
		a, _ := s.appcreds.Get(c.AppCred)
		body["application_credential"] = map[string]any{"id": a.ID, "name": a.Name, "restricted": true}
	}
	return body
}

func (s *Service) catalog(r *http.Request) []map[string]any {
	base := baseURL(r, s.opts.PublicURL)
	out := make([]map[string]any, 0, len(defaultCatalog))
	for _, e := range defaultCatalog {
		var eps []map[string]string
		for _, iface := range []string{"public", "internal", "admin"} {
			eps = append(eps, map[string]string{"id": roleID(e.Type + iface), "interface": iface, "region": s.opts.Region, "region_id": s.opts.Region, "url": base + e.Path})
		}
		out = append(out, map[string]any{"id": roleID("service:" + e.Type), "type": e.Type, "name": e.Name, "endpoints": eps})
	}
	return out
}

// validateToken handles GET/HEAD /v3/auth/tokens: the X-Subject-Token is checked.
func (s *Service) validateToken(w http.ResponseWriter, r *http.Request) error {
	c, err := s.verify(r.Header.Get("X-Subject-Token"))
	if err != nil {
		return httpapi.Errorf(http.StatusNotFound, "NotFound", "Could not find token: %v", err)
	}
	w.Header().Set("X-Subject-Token", r.Header.Get("X-Subject-Token"))
	if r.Method == http.MethodHead {
		w.WriteHeader(http.StatusOK)
		return nil
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"token": s.tokenBody(r, c)})
	return nil
}

// revokeToken handles DELETE /v3/auth/tokens.
func (s *Service) revokeToken(w http.ResponseWriter, r *http.Request) error {
	c, err := s.verify(r.Header.Get("X-Subject-Token"))
	if err != nil {
		return httpapi.Errorf(http.StatusNotFound, "NotFound", "Could not find token: %v", err)
	}
	caller := httpapi.PrincipalFrom(r.Context())
	if !caller.IsAdmin() && caller.UserID != c.UserID {
		return httpapi.Forbidden("You are not authorized to revoke another user's token.")
	}
	if err := s.revoked.Insert(c.AuditID, Revoked{AuditID: c.AuditID, ExpiresAt: c.ExpiresAt}); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// PruneRevoked forgets revocations of tokens that have expired anyway.
func (s *Service) PruneRevoked() error {
	now := time.Now()
	old := s.revoked.List(func(_ string, r *Revoked) bool { return now.After(r.ExpiresAt) })
	if len(old) == 0 {
		return nil
	}
	return s.env.DB.Update(func(tx *store.Tx) error {
		for _, r := range old {
			if err := s.revoked.Delete(tx, r.AuditID); err != nil {
				return err
			}
		}
		return nil
	})
}
