package compute

import (
	"crypto/ed25519"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha1"
	"encoding/pem"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/kaas-sandbox/sandbox/fakecloud/httpapi"
	"github.com/kaas-sandbox/sandbox/fakecloud/store"
)

func (s *Service) keypairRoutes(rt *httpapi.Router, h func(handler) httpapi.HandlerFunc) {
	rt.Handle("GET /v2.1/os-keypairs", "keypair.list", h(s.listKeypairs))
	rt.Handle("POST /v2.1/os-keypairs", "keypair.create", h(s.createKeypair))
	rt.Handle("GET /v2.1/os-keypairs/{name}", "keypair.get", h(s.getKeypair))
	rt.Handle("DELETE /v2.1/os-keypairs/{name}", "keypair.delete", h(s.deleteKeypair))
}

func keypairKey(userID, name string) string { return userID + "/" + name }

var (
	keypairNameRe    = regexp.MustCompile(`^[a-zA-Z0-9 _.@\-]{1,255}$`)
	keypairName292Re = regexp.MustCompile(`^[a-zA-Z0-9 _.@\-:\[\]]{1,255}$`)
)

// keypairUser is the user whose key pairs a request is about: the caller, or (admin, 2.10)
// the user_id given.
func (c *call) keypairUser(given string) (string, error) {
	if given == "" || given == c.p.UserID {
		return c.p.UserID, nil
	}
	if !c.mv.AtLeast(10) {
		return c.p.UserID, nil
	}
	if !c.p.IsAdmin() {
		return "", httpapi.Forbidden("Policy doesn't allow os_compute_api:os-keypairs to be performed for another user.")
	}
	return given, nil
}

func (c *call) keypairBody(k *KeyPair, full bool) map[string]any {
	b := map[string]any{"name": k.Name, "public_key": k.PublicKey, "fingerprint": k.Fingerprint}
	if c.mv.AtLeast(2) {
		b["type"] = k.Type
	}
	if full {
		b["user_id"] = k.UserID
		b["created_at"] = k.Created.UTC().Format("2006-01-02T15:04:05.000000")
		b["deleted"] = false
		b["deleted_at"] = nil
		b["updated_at"] = nil
		b["id"] = 1
	}
	return b
}

func (s *Service) listKeypairs(c *call) error {
	user, err := c.keypairUser(c.r.URL.Query().Get("user_id"))
	if err != nil {
		return err
	}
	all := s.keypairs.List(func(_ string, k *KeyPair) bool { return k.UserID == user })
	var page httpapi.Page[KeyPair]
	if c.mv.AtLeast(35) {
		if page, err = httpapi.Paginate(c.r, all, func(k KeyPair) string { return k.Name }); err != nil {
			return err
		}
	} else {
		slices.SortFunc(all, func(a, b KeyPair) int { return strings.Compare(a.Name, b.Name) })
		page.Items = all
	}
	out := make([]map[string]any, 0, len(page.Items))
	for i := range page.Items {
		out = append(out, map[string]any{"keypair": c.keypairBody(&page.Items[i], false)})
	}
	body := map[string]any{"keypairs": out}
	if page.Next != "" {
		body["keypairs_links"] = httpapi.Links(c.r, page.Next)
	}
	return c.json(http.StatusOK, body)
}

// fingerprint returns Nova's fingerprint of a public key: MD5 of an SSH key's blob, SHA-1 of
// an x509 certificate's DER, as colon-separated hex.
func fingerprint(typ, public string) (string, error) {
	var sum []byte
	if typ == "x509" {
		block, _ := pem.Decode([]byte(public))
		if block == nil {
			return "", fmt.Errorf("not a PEM certificate")
		}
		h := sha1.Sum(block.Bytes)
		sum = h[:]
	} else {
		pk, _, _, _, err := ssh.ParseAuthorizedKey([]byte(public))
		if err != nil {
			return "", err
		}
		h := md5.Sum(pk.Marshal())
		sum = h[:]
	}
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02x", b)
	}
	return strings.Join(parts, ":"), nil
}

func (s *Service) createKeypair(c *call) error {
	var body struct {
		Keypair *struct {
			Name      *string `json:"name"`
			PublicKey *string `json:"public_key"`
			Type      *string `json:"type"`
			UserID    *string `json:"user_id"`
		} `json:"keypair"`
	}
	if err := httpapi.Decode(c.r, &body); err != nil {
		return err
	}
	in := body.Keypair
	if in == nil {
		return httpapi.BadRequest("Invalid input for field/attribute keypair. 'keypair' is a required property")
	}
	if in.Name == nil {
		return httpapi.BadRequest("Invalid input for field/attribute keypair. 'name' is a required property")
	}
	re := keypairNameRe
	if c.mv.AtLeast(92) {
		re = keypairName292Re
	}
	if !re.MatchString(*in.Name) || strings.TrimSpace(*in.Name) != *in.Name {
		return httpapi.BadRequest("Invalid input for field/attribute name. Value: %s. Keypair name contains unsafe characters or is not 1 to 255 characters", *in.Name)
	}
	k := KeyPair{Name: *in.Name, Type: "ssh", Project: c.p.ProjectID, Created: time.Now().UTC()}
	if in.Type != nil {
		if !c.mv.AtLeast(2) {
			return httpapi.BadRequest("Invalid input for field/attribute keypair. Additional properties are not allowed ('type' was unexpected)")
		}
		if *in.Type != "ssh" && *in.Type != "x509" {
			return httpapi.BadRequest("Invalid input for field/attribute type. Value: %s. '%s' is not one of ['ssh', 'x509']", *in.Type, *in.Type)
		}
		k.Type = *in.Type
	}
	given := ""
	if in.UserID != nil {
		given = *in.UserID
	}
	user, err := c.keypairUser(given)
	if err != nil {
		return err
	}
	k.UserID = user
	private := ""
	if in.PublicKey != nil && *in.PublicKey != "" {
		k.PublicKey = *in.PublicKey // verbatim, as Nova keeps it (a trailing newline included)
		fp, err := fingerprint(k.Type, k.PublicKey)
		if err != nil {
			return httpapi.BadRequest("Keypair data is invalid: failed to generate fingerprint")
		}
		k.Fingerprint = fp
	} else {
		if c.mv.AtLeast(92) {
			return httpapi.BadRequest("Invalid input for field/attribute keypair. 'public_key' is a required property")
		}
		if k.Type == "x509" {
			return httpapi.BadRequest("Keypair data is invalid: generating x509 key pairs is not supported")
		}
		pub, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return fmt.Errorf("generating a key pair: %w", err)
		}
		sshPub, err := ssh.NewPublicKey(pub)
		if err != nil {
			return fmt.Errorf("encoding a public key: %w", err)
		}
		block, err := ssh.MarshalPrivateKey(priv, "Generated-by-Nova")
		if err != nil {
			return fmt.Errorf("encoding a private key: %w", err)
		}
		private = string(pem.EncodeToMemory(block))
		k.PublicKey = strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sshPub))) + " Generated-by-Nova"
		k.Fingerprint, _ = fingerprint("ssh", k.PublicKey)
	}
	err = s.env.DB.Update(func(tx *store.Tx) error {
		if _, dup := s.keypairs.Get(keypairKey(k.UserID, k.Name)); dup {
			return httpapi.Conflict("Key pair '%s' already exists.", k.Name)
		}
		if lim := s.limit(c.p.ProjectID, "key_pairs"); lim >= 0 {
			if s.keypairs.Count(func(_ string, o *KeyPair) bool { return o.UserID == k.UserID }) >= lim {
				return httpapi.Forbidden("Quota exceeded, too many key pairs.")
			}
		}
		if err := s.keypairs.Put(tx, keypairKey(k.UserID, k.Name), k); err != nil {
			return err
		}
		emit(tx, "keypair", keypairKey(k.UserID, k.Name), k.Project, "created", k.Name)
		return nil
	})
	if err != nil {
		return err
	}
	b := c.keypairBody(&k, false)
	b["user_id"] = k.UserID
	if private != "" {
		b["private_key"] = private
	}
	status := http.StatusOK
	if c.mv.AtLeast(2) {
		status = http.StatusCreated
	}
	return c.json(status, map[string]any{"keypair": b})
}

func (s *Service) getKeypair(c *call) error {
	user, err := c.keypairUser(c.r.URL.Query().Get("user_id"))
	if err != nil {
		return err
	}
	name := c.r.PathValue("name")
	k, ok := s.keypairs.Get(keypairKey(user, name))
	if !ok {
		return httpapi.Errorf(http.StatusNotFound, "KeypairNotFound", "Keypair %s not found for user %s", name, user)
	}
	return c.json(http.StatusOK, map[string]any{"keypair": c.keypairBody(&k, true)})
}

func (s *Service) deleteKeypair(c *call) error {
	user, err := c.keypairUser(c.r.URL.Query().Get("user_id"))
	if err != nil {
		return err
	}
	name := c.r.PathValue("name")
	err = s.env.DB.Update(func(tx *store.Tx) error {
		k, ok := s.keypairs.Get(keypairKey(user, name))
		if !ok {
			return httpapi.Errorf(http.StatusNotFound, "KeypairNotFound", "Keypair %s not found for user %s", name, user)
		}
		if err := s.keypairs.Delete(tx, keypairKey(user, name)); err != nil {
			return err
		}
		emit(tx, "keypair", keypairKey(user, name), k.Project, "deleted", name)
		return nil
	})
	if err != nil {
		return err
	}
	if c.mv.AtLeast(2) {
		c.w.WriteHeader(http.StatusNoContent)
	} else {
		c.w.WriteHeader(http.StatusAccepted)
	}
	return nil
}
