package bootstrap

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	bootstrapapi "k8s.io/cluster-bootstrap/token/api"
	bootstraputil "k8s.io/cluster-bootstrap/token/util"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

const (
	// DefaultTokenTTL is how long a bootstrap token is valid when TokenTTL is not set.
	DefaultTokenTTL = 24 * time.Hour

	// NodeBootstrapTokenGroup is the group kubeadm's RBAC lets join nodes: kubeadm join's
	// TLS bootstrap is allowed for tokens in it.
	NodeBootstrapTokenGroup = "system:bootstrappers:kubeadm:default-node-token"
)

// bootstrapToken is a kubeadm bootstrap token, <id>.<secret>. Only its ID may be logged.
type bootstrapToken struct {
	ID     string
	Secret string
}

// newBootstrapToken makes a random token.
func newBootstrapToken() (bootstrapToken, error) {
	s, err := bootstraputil.GenerateBootstrapToken()
	if err != nil {
		return bootstrapToken{}, fmt.Errorf("generating a bootstrap token: %w", err)
	}
	return parseBootstrapToken(s)
}

// parseBootstrapToken reads "<id>.<secret>"; the error never repeats the input.
func parseBootstrapToken(s string) (bootstrapToken, error) {
	if !bootstraputil.IsValidBootstrapToken(s) {
		return bootstrapToken{}, errors.New("not a bootstrap token of the form [a-z0-9]{6}.[a-z0-9]{16}")
	}
	id, secret, _ := strings.Cut(s, ".")
	return bootstrapToken{ID: id, Secret: secret}, nil
}

// String returns "<id>.<secret>": the credential itself.
func (t bootstrapToken) String() string {
	return bootstraputil.TokenFromIDAndSecret(t.ID, t.Secret)
}

// secretKey is where the token's Secret lives in the workload cluster.
func (t bootstrapToken) secretKey() client.ObjectKey {
	return client.ObjectKey{Namespace: metav1.NamespaceSystem, Name: bootstraputil.BootstrapTokenSecretName(t.ID)}
}

// secretData is the content of the token's Secret, expiring at expiration.
func (t bootstrapToken) secretData(expiration time.Time, description string) map[string][]byte {
	return map[string][]byte{
		bootstrapapi.BootstrapTokenIDKey:               []byte(t.ID),
		bootstrapapi.BootstrapTokenSecretKey:           []byte(t.Secret),
		bootstrapapi.BootstrapTokenExpirationKey:       []byte(expiration.UTC().Format(time.RFC3339)),
		bootstrapapi.BootstrapTokenUsageAuthentication: []byte("true"),
		bootstrapapi.BootstrapTokenUsageSigningKey:     []byte("true"),
		bootstrapapi.BootstrapTokenExtraGroupsKey:      []byte(NodeBootstrapTokenGroup),
		bootstrapapi.BootstrapTokenDescriptionKey:      []byte(description),
	}
}

// tokenKeeper keeps one token's Secret alive in a workload cluster.
type tokenKeeper struct {
	c           client.Client
	ttl         time.Duration
	now         time.Time
	description string
}

// renewBefore is the remaining validity under which a token is extended: two thirds of the TTL.
func (k tokenKeeper) renewBefore() time.Duration { return k.ttl * 2 / 3 }

// ensure creates the token's Secret if it is missing, extends it to now+TTL when less than
// two thirds of the TTL remain (or its expiration cannot be read) and repairs its other keys.
// It returns when the token needs looking at again.
func (k tokenKeeper) ensure(ctx context.Context, t bootstrapToken) (time.Duration, error) {
	key := t.secretKey()
	desired := t.secretData(k.now.Add(k.ttl), k.description)
	s := &corev1.Secret{}
	err := k.c.Get(ctx, key, s)
	switch {
	case apierrors.IsNotFound(err):
		s = &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name},
			Type:       bootstrapapi.SecretTypeBootstrapToken,
			Data:       desired,
		}
		if err := k.c.Create(ctx, s); err != nil {
			return 0, fmt.Errorf("creating bootstrap token secret %s in the workload cluster: %w", key, err)
		}
		return k.ttl - k.renewBefore(), nil
	case err != nil:
		return 0, fmt.Errorf("reading bootstrap token secret %s in the workload cluster: %w", key, err)
	}
	if s.Type != bootstrapapi.SecretTypeBootstrapToken {
		return 0, fmt.Errorf("secret %s in the workload cluster has type %q, not %q", key, s.Type, bootstrapapi.SecretTypeBootstrapToken)
	}

	remaining := time.Duration(-1)
	if exp, err := time.Parse(time.RFC3339, string(s.Data[bootstrapapi.BootstrapTokenExpirationKey])); err == nil {
		remaining = exp.Sub(k.now)
	}
	if remaining >= k.renewBefore() && sameExceptExpiration(s.Data, desired) {
		return max(remaining-k.renewBefore(), time.Second), nil
	}

	before := s.DeepCopy()
	if s.Data == nil {
		s.Data = map[string][]byte{}
	}
	maps.Copy(s.Data, desired)
	if err := k.c.Patch(ctx, s, client.MergeFrom(before)); err != nil {
		return 0, fmt.Errorf("extending bootstrap token secret %s in the workload cluster: %w", key, err)
	}
	return k.ttl - k.renewBefore(), nil
}

func sameExceptExpiration(have, want map[string][]byte) bool {
	for k, v := range want {
		if k == bootstrapapi.BootstrapTokenExpirationKey {
			continue
		}
		if string(have[k]) != string(v) {
			return false
		}
	}
	return true
}
