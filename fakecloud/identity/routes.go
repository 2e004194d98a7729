package identity

import (
	"net/http"
	"slices"
	"time"

	"github.com/kaas-sandbox/sandbox/fakecloud/httpapi"
	"github.com/kaas-sandbox/sandbox/fakecloud/store"
)

// Routes registers Keystone's routes under /identity. The router's Auth must be this service.
func (s *Service) Routes() {
	rt := s.env.Router("identity", "/identity", httpapi.StyleKeystone)
	rt.HandlePublic("GET /{$}", "versions", s.versions)
	rt.HandlePublic("GET /v3", "version", s.version)
	rt.HandlePublic("GET /v3/{$}", "version", s.version)
	rt.HandlePublic("POST /v3/auth/tokens", "token.issue", s.issueToken)
	rt.Handle("GET /v3/auth/tokens", "token.validate", s.validateToken)
	rt.Handle("HEAD /v3/auth/tokens", "token.validate", s.validateToken)
	rt.Handle("DELETE /v3/auth/tokens", "token.revoke", s.revokeToken)
	rt.Handle("GET /v3/auth/catalog", "catalog.get", func(w http.ResponseWriter, r *http.Request) error {
		httpapi.WriteJSON(w, http.StatusOK, map[string]any{"catalog": s.catalog(r)})
		return nil
	})
	rt.Handle("GET /v3/auth/projects", "project.list-mine", s.myProjects)
	rt.Handle("GET /v3/users/{id}/projects", "project.list-for-user", s.myProjects)
	rt.Handle("GET /v3/projects", "project.list", s.listProjects)
	rt.Handle("GET /v3/projects/{id}", "project.get", s.getProject)
	rt.Handle("POST /v3/projects", "project.create", s.createProject)
	rt.Handle("GET /v3/users", "user.list", s.listUsers)
	rt.Handle("GET /v3/users/{id}", "user.get", s.getUser)
	rt.Handle("GET /v3/roles", "role.list", s.listRoles)
	rt.Handle("PUT /v3/projects/{pid}/users/{uid}/roles/{rid}", "role.grant", s.grantRole)
	rt.Handle("GET /v3/domains", "domain.list", func(w http.ResponseWriter, r *http.Request) error {
		httpapi.WriteJSON(w, http.StatusOK, map[string]any{"domains": []any{s.domainJSON(r)}})
		return nil
	})
	rt.Handle("GET /v3/domains/{id}", "domain.get", func(w http.ResponseWriter, r *http.Request) error {
		if id := r.PathValue("id"); id != DefaultDomain {
			return httpapi.NotFound("domain", id)
		}
		httpapi.WriteJSON(w, http.StatusOK, map[string]any{"domain": s.domainJSON(r)})
		return nil
	})
	rt.Handle("POST /v3/users/{id}/application_credentials", "application_credential.create", s.createAppCred)
	rt.Handle("GET /v3/users/{id}/application_credentials", "application_credential.list", s.listAppCreds)
	rt.Handle("GET /v3/users/{id}/application_credentials/{cid}", "application_credential.get", s.getAppCred)
	rt.Handle("DELETE /v3/users/{id}/application_credentials/{cid}", "application_credential.delete", s.deleteAppCred)
}

// selfLinks is the links member Keystone gives every entity: its own URL (the openstack CLI's
// show commands drop it from what they print and fail when it is missing).
func (s *Service) selfLinks(r *http.Request, collection, id string) map[string]any {
	return map[string]any{"self": baseURL(r, s.opts.PublicURL) + "/identity/v3/" + collection + "/" + id}
}

func (s *Service) domainJSON(r *http.Request) map[string]any {
	return map[string]any{"id": DefaultDomain, "name": "Default", "enabled": true, "description": "The default domain",
		"links": s.selfLinks(r, "domains", DefaultDomain)}
}

func (s *Service) versionJSON(r *http.Request) map[string]any {
	return map[string]any{
		"id": "v3.14", "status": "stable", "updated": "2020-04-07T00:00:00Z",
		"links":       []map[string]string{{"rel": "self", "href": baseURL(r, s.opts.PublicURL) + "/identity/v3/"}},
		"media-types": []map[string]string{{"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}},
	}
}

func (s *Service) versions(w http.ResponseWriter, r *http.Request) error {
	httpapi.WriteJSON(w, http.StatusMultipleChoices, map[string]any{"versions": map[string]any{"values": []any{s.versionJSON(r)}}})
	return nil
}

func (s *Service) version(w http.ResponseWriter, r *http.Request) error {
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"version": s.versionJSON(r)})
	return nil
}

func (s *Service) projectJSON(r *http.Request, p Project) map[string]any {
	return map[string]any{"id": p.ID, "name": p.Name, "description": p.Description, "domain_id": p.DomainID,
		"enabled": p.Enabled, "is_domain": false, "parent_id": p.DomainID, "tags": []string{},
		"links": s.selfLinks(r, "projects", p.ID)}
}

func (s *Service) listProjects(w http.ResponseWriter, r *http.Request) error {
	caller := httpapi.PrincipalFrom(r.Context())
	f := httpapi.NewFilter(r)
	ps := s.projects.List(func(_ string, p *Project) bool {
		return caller.Sees(p.ID) && f.Str("name", p.Name) && f.Str("domain_id", p.DomainID)
	})
	out := make([]any, 0, len(ps))
	for _, p := range ps {
		out = append(out, s.projectJSON(r, p))
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"projects": out, "links": map[string]any{"self": r.URL.String(), "next": nil, "previous": nil}})
	return nil
}

func (s *Service) myProjects(w http.ResponseWriter, r *http.Request) error {
	caller := httpapi.PrincipalFrom(r.Context())
	uid := r.PathValue("id")
	if uid == "" {
		uid = caller.UserID
	}
	if uid != caller.UserID && !caller.IsAdmin() {
		return httpapi.Forbidden("You are not authorized to list another user's projects.")
	}
	u, ok := s.users.Get(uid)
	if !ok {
		return httpapi.NotFound("user", uid)
	}
	var out []any
	for pid := range u.Roles {
		if p, ok := s.projects.Get(pid); ok {
			out = append(out, s.projectJSON(r, p))
		}
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"projects": out, "links": map[string]any{"self": r.URL.String()}})
	return nil
}

func (s *Service) getProject(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	p, ok := s.projects.Get(id)
	if !ok || !httpapi.PrincipalFrom(r.Context()).Sees(p.ID) {
		return httpapi.NotFound("project", id)
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"project": s.projectJSON(r, p)})
	return nil
}

func (s *Service) createProject(w http.ResponseWriter, r *http.Request) error {
	if !httpapi.PrincipalFrom(r.Context()).IsAdmin() {
		return httpapi.Forbidden("You are not authorized to perform the requested action: identity:create_project.")
	}
	var req struct {
		Project *struct {
			Name        string `json:"name"`
			Description string `json:"description"`
			Enabled     *bool  `json:"enabled"`
		} `json:"project"`
	}
	if err := httpapi.Decode(r, &req); err != nil {
		return err
	}
	if req.Project == nil || req.Project.Name == "" || len(req.Project.Name) > 64 {
		return httpapi.BadRequest("Invalid input for field 'project/name': a name of 1 to 64 characters is required")
	}
	if _, dup := s.ProjectByName(req.Project.Name); dup {
		return httpapi.Conflict("Conflict occurred attempting to store project - it is not permitted to have two projects with the same name in the same domain : %s.", req.Project.Name)
	}
	p := Project{ID: hexID(), Name: req.Project.Name, Description: req.Project.Description, DomainID: DefaultDomain, Enabled: req.Project.Enabled == nil || *req.Project.Enabled}
	err := s.env.DB.Update(func(tx *store.Tx) error {
		tx.Emit(store.Event{Service: "identity", Kind: "project", ID: p.ID, Project: p.ID, Action: "created", Detail: p.Name})
		return s.projects.Put(tx, p.ID, p)
	})
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusCreated, map[string]any{"project": s.projectJSON(r, p)})
	return nil
}

func (s *Service) userJSON(r *http.Request, u User) map[string]any {
	return map[string]any{"id": u.ID, "name": u.Name, "domain_id": u.DomainID, "enabled": u.Enabled,
		"default_project_id": u.DefaultProjectID, "password_expires_at": nil, "links": s.selfLinks(r, "users", u.ID)}
}

func (s *Service) listUsers(w http.ResponseWriter, r *http.Request) error {
	caller := httpapi.PrincipalFrom(r.Context())
	f := httpapi.NewFilter(r)
	us := s.users.List(func(_ string, u *User) bool {
		return (caller.IsAdmin() || u.ID == caller.UserID) && f.Str("name", u.Name)
	})
	out := make([]any, 0, len(us))
	for _, u := range us {
		out = append(out, s.userJSON(r, u))
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"users": out, "links": map[string]any{"self": r.URL.String()}})
	return nil
}

func (s *Service) getUser(w http.ResponseWriter, r *http.Request) error {
	caller := httpapi.PrincipalFrom(r.Context())
	id := r.PathValue("id")
	u, ok := s.users.Get(id)
	if !ok || (!caller.IsAdmin() && u.ID != caller.UserID) {
		return httpapi.NotFound("user", id)
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"user": s.userJSON(r, u)})
	return nil
}

var allRoles = []string{httpapi.RoleAdmin, httpapi.RoleMember, httpapi.RoleReader}

func (s *Service) listRoles(w http.ResponseWriter, r *http.Request) error {
	var out []any
	for _, name := range allRoles {
		out = append(out, map[string]any{"id": roleID(name), "name": name, "domain_id": nil, "links": s.selfLinks(r, "roles", roleID(name))})
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"roles": out})
	return nil
}

func (s *Service) grantRole(w http.ResponseWriter, r *http.Request) error {
	if !httpapi.PrincipalFrom(r.Context()).IsAdmin() {
		return httpapi.Forbidden("You are not authorized to perform the requested action: identity:create_grant.")
	}
	pid, uid, rid := r.PathValue("pid"), r.PathValue("uid"), r.PathValue("rid")
	if _, ok := s.projects.Get(pid); !ok {
		return httpapi.NotFound("project", pid)
	}
	role := ""
	for _, name := range allRoles {
		if rid == name || rid == roleID(name) {
			role = name
		}
	}
	if role == "" {
		return httpapi.NotFound("role", rid)
	}
	err := s.env.DB.Update(func(tx *store.Tx) error {
		_, err := s.users.Modify(tx, uid, func(u *User) error {
			if u.Roles == nil {
				u.Roles = map[string][]string{}
			}
			for _, implied := range rolesFor(role) {
				if !slices.Contains(u.Roles[pid], implied) {
					u.Roles[pid] = append(u.Roles[pid], implied)
				}
			}
			return nil
		})
		return err
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func appCredJSON(a AppCredential) map[string]any {
	roles := make([]map[string]string, 0, len(a.Roles))
	for _, name := range a.Roles {
		roles = append(roles, map[string]string{"id": roleID(name), "name": name})
	}
	return map[string]any{"id": a.ID, "name": a.Name, "description": a.Description, "project_id": a.ProjectID,
		"roles": roles, "expires_at": a.ExpiresAt, "unrestricted": false, "user_id": a.UserID}
}

func (s *Service) ownUser(r *http.Request) (string, error) {
	caller := httpapi.PrincipalFrom(r.Context())
	uid := r.PathValue("id")
	if uid != caller.UserID && !caller.IsAdmin() {
		return "", httpapi.Forbidden("You are not authorized to manage another user's application credentials.")
	}
	if _, ok := s.users.Get(uid); !ok {
		return "", httpapi.NotFound("user", uid)
	}
	return uid, nil
}

func (s *Service) createAppCred(w http.ResponseWriter, r *http.Request) error {
	uid, err := s.ownUser(r)
	if err != nil {
		return err
	}
	caller := httpapi.PrincipalFrom(r.Context())
	var req struct {
		AppCred *struct {
			Name        string     `json:"name"`
			Description string     `json:"description"`
			Secret      string     `json:"secret"`
			ExpiresAt   *time.Time `json:"expires_at"`
			Roles       []struct {
				ID   string `json:"id"`
				Name string `json:"name"`
			} `json:"roles"`
		} `json:"application_credential"`
	}
	if err := httpapi.Decode(r, &req); err != nil {
		return err
	}
	ac := req.AppCred
	if ac == nil || ac.Name == "" || len(ac.Name) > 255 {
		return httpapi.BadRequest("Invalid input for field 'application_credential/name': a name of 1 to 255 characters is required")
	}
	if ac.ExpiresAt != nil && ac.ExpiresAt.Before(time.Now()) {
		return httpapi.BadRequest("Invalid input for field 'application_credential/expires_at': the time is in the past")
	}
	if len(s.appcreds.List(func(_ string, c *AppCredential) bool { return c.UserID == uid && c.Name == ac.Name })) > 0 {
		return httpapi.Conflict("Conflict occurred attempting to store application_credential - Duplicate entry.")
	}
	roles := slices.Clone(caller.Roles)
	if len(ac.Roles) > 0 {
		roles = nil
		for _, want := range ac.Roles {
			found := false
			for _, name := range caller.Roles {
				if want.Name == name || want.ID == roleID(name) {
					roles, found = append(roles, name), true
				}
			}
			if !found {
				return httpapi.Forbidden("You cannot grant a role (%s%s) that you do not hold.", want.Name, want.ID)
			}
		}
	}
	secret := ac.Secret
	if secret == "" {
		secret = randomHex(24)
	}
	salt := randomHex(8)
	a := AppCredential{ID: hexID(), Name: ac.Name, Description: ac.Description, UserID: uid, ProjectID: caller.ProjectID,
		Roles: roles, Salt: salt, SecretHash: hashSecret(salt, secret), ExpiresAt: ac.ExpiresAt}
	err = s.env.DB.Update(func(tx *store.Tx) error {
		tx.Emit(store.Event{Service: "identity", Kind: "application_credential", ID: a.ID, Project: a.ProjectID, Action: "created", Detail: a.Name})
		return s.appcreds.Put(tx, a.ID, a)
	})
	if err != nil {
		return err
	}
	body := appCredJSON(a)
	body["secret"] = secret
	httpapi.WriteJSON(w, http.StatusCreated, map[string]any{"application_credential": body})
	return nil
}

func (s *Service) listAppCreds(w http.ResponseWriter, r *http.Request) error {
	uid, err := s.ownUser(r)
	if err != nil {
		return err
	}
	f := httpapi.NewFilter(r)
	out := []any{}
	for _, a := range s.appcreds.List(func(_ string, c *AppCredential) bool { return c.UserID == uid && f.Str("name", c.Name) }) {
		out = append(out, appCredJSON(a))
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"application_credentials": out, "links": map[string]any{"self": r.URL.String()}})
	return nil
}

func (s *Service) getAppCred(w http.ResponseWriter, r *http.Request) error {
	uid, err := s.ownUser(r)
	if err != nil {
		return err
	}
	a, ok := s.appcreds.Get(r.PathValue("cid"))
	if !ok || a.UserID != uid {
		return httpapi.NotFound("application credential", r.PathValue("cid"))
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"application_credential": appCredJSON(a)})
	return nil
}

func (s *Service) deleteAppCred(w http.ResponseWriter, r *http.Request) error {
	uid, err := s.ownUser(r)
	if err != nil {
		return err
	}
	id := r.PathValue("cid")
	a, ok := s.appcreds.Get(id)
	if !ok || a.UserID != uid {
		return httpapi.NotFound("application credential", id)
	}
	err = s.env.DB.Update(func(tx *store.Tx) error {
		tx.Emit(store.Event{Service: "identity", Kind: "application_credential", ID: a.ID, Project: a.ProjectID, Action: "deleted", Detail: a.Name})
		return s.appcreds.Delete(tx, id)
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
