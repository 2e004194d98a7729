package cloud

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// CloudsYAML renders a standard clouds.yaml for the seeded users, with authURL as Keystone's
// v3 endpoint (e.g. http://127.0.0.1:8780/identity/v3).
func (c *Cloud) CloudsYAML(authURL string) string {
	var b strings.Builder
	b.WriteString("# Written by fakecloud; use with OS_CLOUD=<name> (openstack CLI) or gophercloud's clientconfig.\nclouds:\n")
	for _, cr := range c.creds {
		fmt.Fprintf(&b, "  %s:\n    auth:\n      auth_url: %s\n      username: %q\n      password: %q\n      project_name: %q\n      user_domain_name: Default\n      project_domain_name: Default\n    region_name: %s\n    interface: public\n    identity_api_version: 3\n",
			cr.Cloud, authURL, cr.User, cr.Password, cr.Project, c.Identity.Region())
	}
	return b.String()
}

// WriteCloudsYAML writes CloudsYAML to path (mode 0600: it holds passwords).
func (c *Cloud) WriteCloudsYAML(path, authURL string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("creating the directory of %s: %w", path, err)
	}
	if err := os.WriteFile(path, []byte(c.CloudsYAML(authURL)), 0o600); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
