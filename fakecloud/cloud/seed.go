package cloud

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"github.com/kaas-sandbox/sandbox/fakecloud/baremetal"
	"github.com/kaas-sandbox/sandbox/fakecloud/compute"
	"github.com/kaas-sandbox/sandbox/fakecloud/httpapi"
	"github.com/kaas-sandbox/sandbox/fakecloud/identity"
	"github.com/kaas-sandbox/sandbox/fakecloud/image"
	"github.com/kaas-sandbox/sandbox/fakecloud/store"
)

// Seed says what a fresh region holds. Zero values take the defaults.
type Seed struct {
	AdminPassword  string // default: random, kept in the state
	DemoPassword   string // default: random, kept in the state
	ExternalCIDR   string // the floating-IP network's subnet; default 172.24.4.0/24
	ExternalGW     string // its gateway; default the first address
	BareMetalNodes int    // enrolled, available nodes; default 3; -1 for none
	Zones          []string
	Hypervisors    int // simulated hypervisors per zone; default 3

	Flavors   []compute.Flavor     // nil: compute.DefaultFlavors()
	Images    image.SeedConfig     // which node images; Owner is set to the admin project
	BareMetal []baremetal.SeedNode // nil: BareMetalNodes nodes of baremetal.DefaultSeed
}

// Credential is one user fakecloud writes into clouds.yaml.
type Credential struct {
	Cloud    string `json:"cloud"` // the clouds.yaml entry: fakecloud-admin, fakecloud-demo...
	User     string `json:"user"`
	Password string `json:"password"`
	Project  string `json:"project"`
	Role     string `json:"role"`
}

func randomPassword() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// seed creates the users (with their passwords kept in the state, so clouds.yaml can be
// written again after a restart) and each service's defaults.
func (c *Cloud) seed() error {
	credTable, err := store.NewTable[Credential](c.DB, "_credentials")
	if err != nil {
		return err
	}
	wanted := []Credential{
		{Cloud: "fakecloud-admin", User: "admin", Password: c.cfg.Seed.AdminPassword, Project: "admin", Role: httpapi.RoleAdmin},
		{Cloud: "fakecloud-demo", User: "demo", Password: c.cfg.Seed.DemoPassword, Project: "demo", Role: httpapi.RoleMember},
		{Cloud: "fakecloud-demo-reader", User: "demo-reader", Password: c.cfg.Seed.DemoPassword, Project: "demo", Role: httpapi.RoleReader},
	}
	var users []identity.SeedUser
	err = c.DB.Update(func(tx *store.Tx) error {
		for _, w := range wanted {
			if have, ok := credTable.Get(w.Cloud); ok {
				w.Password = have.Password
			} else {
				if w.Password == "" {
					w.Password = randomPassword()
				}
				if err := credTable.Put(tx, w.Cloud, w); err != nil {
					return err
				}
			}
			c.creds = append(c.creds, w)
			users = append(users, identity.SeedUser{Name: w.User, Password: w.Password, Project: w.Project, Role: w.Role})
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("seeding credentials: %w", err)
	}
	if err := c.Identity.Seed(users); err != nil {
		return fmt.Errorf("seeding identity: %w", err)
	}
	return c.seedServices()
}

// Credentials returns the seeded users and their passwords.
func (c *Cloud) Credentials() []Credential { return append([]Credential(nil), c.creds...) }
