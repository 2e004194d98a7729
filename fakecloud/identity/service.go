// Package identity is fakecloud's Keystone v3: projects, users with roles (admin, member,
// reader), password and application-credential authentication, signed project-scoped tokens
// that expire (and survive restarts), and the service catalog that points every other service
// back at fakecloud's own listener.
package identity

import (
	"encoding/hex"
	"fmt"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/kaas-sandbox/sandbox/fakecloud/httpapi"
	"github.com/kaas-sandbox/sandbox/fakecloud/services"
	"github.com/kaas-sandbox/sandbox/fakecloud/store"
)

// Endpoint is one service of the catalog: its type, name and path under fakecloud's URL.
type Endpoint struct {
	Type string // compute, network, load-balancer, image, baremetal, identity
	Name string // nova, neutron, octavia, glance, ironic, keystone
	Path string // e.g. "/compute/v2.1/"
}

// Catalog is the default service catalog: every service on the one listener.
var defaultCatalog = []Endpoint{
	{Type: "identity", Name: "keystone", Path: "/identity/v3/"},
	{Type: "compute", Name: "nova", Path: "/compute/v2.1/"},
	{Type: "network", Name: "neutron", Path: "/network/"},
	{Type: "load-balancer", Name: "octavia", Path: "/load-balancer/"},
	{Type: "image", Name: "glance", Path: "/image/"},
	{Type: "baremetal", Name: "ironic", Path: "/baremetal/"},
}

// Catalog returns the catalog's endpoints.
func Catalog() []Endpoint { return append([]Endpoint(nil), defaultCatalog...) }

// Options configure the identity service.
type Options struct {
	TokenTTL time.Duration // default 1 h
	Region   string        // default "RegionOne"
	// PublicURL, when set, is the base URL put into the catalog; otherwise the catalog is
	// built from the Host each token request was sent to, so it works from any network.
	PublicURL string
	Now       func() time.Time // for tests
}

// Service is Keystone.
type Service struct {
	env      services.Env
	opts     Options
	key      []byte
	projects *store.Table[Project]
	users    *store.Table[User]
	appcreds *store.Table[AppCredential]
	revoked  *store.Table[Revoked]
}

// New creates the identity service, its tables and (on first start) its signing key.
func New(env services.Env, opts Options) (*Service, error) {
	if opts.TokenTTL <= 0 {
		opts.TokenTTL = time.Hour
	}
	if opts.Region == "" {
		opts.Region = "RegionOne"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Service{env: env, opts: opts}
	var err error
	if s.projects, err = store.NewTable[Project](env.DB, "identity_projects"); err != nil {
		return nil, err
	}
	if s.users, err = store.NewTable[User](env.DB, "identity_users"); err != nil {
		return nil, err
	}
	if s.appcreds, err = store.NewTable[AppCredential](env.DB, "identity_appcreds"); err != nil {
		return nil, err
	}
	if s.revoked, err = store.NewTable[Revoked](env.DB, "identity_revoked"); err != nil {
		return nil, err
	}
	secrets, err := store.NewTable[Secret](env.DB, "identity_secret")
	if err != nil {
		return nil, err
	}
	sec, ok := secrets.Get("token")
	if !ok {
		sec = Secret{Key: randomHex(32)}
		if err := secrets.Insert("token", sec); err != nil {
			return nil, fmt.Errorf("saving the token key: %w", err)
		}
	}
	if s.key, err = hex.DecodeString(sec.Key); err != nil {
		return nil, fmt.Errorf("decoding the token key: %w", err)
	}
	return s, nil
}

func (s *Service) now() time.Time { return s.opts.Now().UTC() }

// Region returns the region name of the catalog.
func (s *Service) Region() string { return s.opts.Region }

// SeedUser describes a user to create at first start.
type SeedUser struct {
	Name     string
	Password string
	Project  string // project name; created when missing
	Role     string // admin, member or reader
}

// Seed creates the projects and users given, when they do not exist yet. Existing users keep
// their passwords.
func (s *Service) Seed(users []SeedUser) error {
	return s.env.DB.Update(func(tx *store.Tx) error {
		for _, su := range users {
			p, ok := s.ProjectByName(su.Project)
			if !ok {
				p = Project{ID: hexID(), Name: su.Project, DomainID: DefaultDomain, Enabled: true, Description: "seeded by fakecloud"}
				if err := s.projects.Put(tx, p.ID, p); err != nil {
					return err
				}
				tx.Emit(store.Event{Service: "identity", Kind: "project", ID: p.ID, Project: p.ID, Action: "created", Detail: p.Name})
			}
			if _, ok := s.UserByName(su.Name); ok {
				continue
			}
			salt := randomHex(8)
			u := User{ID: hexID(), Name: su.Name, DomainID: DefaultDomain, Enabled: true, DefaultProjectID: p.ID,
				Salt: salt, PasswordHash: hashSecret(salt, su.Password), Roles: map[string][]string{p.ID: rolesFor(su.Role)}}
			if err := s.users.Put(tx, u.ID, u); err != nil {
				return err
			}
			tx.Emit(store.Event{Service: "identity", Kind: "user", ID: u.ID, Project: p.ID, Action: "created", Detail: u.Name + " (" + su.Role + ")"})
		}
		return nil
	})
}

// rolesFor returns the roles implied by role, as Keystone's default role hierarchy
// (admin implies member implies reader).
func rolesFor(role string) []string {
	switch role {
	case httpapi.RoleAdmin:
		return []string{httpapi.RoleAdmin, httpapi.RoleMember, httpapi.RoleReader}
	case httpapi.RoleMember:
		return []string{httpapi.RoleMember, httpapi.RoleReader}
	default:
		return []string{httpapi.RoleReader}
	}
}

// hexID returns a Keystone-style id: 32 hex characters.
func hexID() string {
	u := uuid.New()
	return hex.EncodeToString(u[:])
}

// ProjectByName returns the project with that name.
func (s *Service) ProjectByName(name string) (Project, bool) {
	ps := s.projects.List(func(_ string, p *Project) bool { return p.Name == name })
	if len(ps) == 0 {
		return Project{}, false
	}
	return ps[0], true
}

// UserByName returns the user with that name.
func (s *Service) UserByName(name string) (User, bool) {
	us := s.users.List(func(_ string, u *User) bool { return u.Name == name })
	if len(us) == 0 {
		return User{}, false
	}
	return us[0], true
}

// Projects returns every project.
func (s *Service) Projects() []Project { return s.projects.List(nil) }

// Resources implements services.Service.
func (s *Service) Resources() []services.Resource {
	var out []services.Resource
	for _, p := range s.projects.List(nil) {
		out = append(out, services.Resource{Service: "identity", Kind: "project", ID: p.ID, Name: p.Name, Project: p.ID, Status: enabled(p.Enabled)})
	}
	for _, u := range s.users.List(nil) {
		out = append(out, services.Resource{Service: "identity", Kind: "user", ID: u.ID, Name: u.Name, Project: u.DefaultProjectID, Status: enabled(u.Enabled)})
	}
	for _, a := range s.appcreds.List(nil) {
		out = append(out, services.Resource{Service: "identity", Kind: "application_credential", ID: a.ID, Name: a.Name, Project: a.ProjectID, Status: "active"})
	}
	return out
}

func enabled(b bool) string {
	if b {
		return "enabled"
	}
	return "disabled"
}

func baseURL(r *http.Request, public string) string {
	if public != "" {
		return public
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
