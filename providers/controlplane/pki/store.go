package pki

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"
	"sigs.k8s.io/cluster-api/util/secret"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// store reads and writes the leaf and kubeconfig Secrets of one cluster.
type store struct {
	c         client.Client
	namespace string
	cluster   string
	owner     metav1.OwnerReference
	res       *Result
}

func (s *store) ensureLeaf(ctx context.Context, l leaf, ca *authority) error {
	current := func(data map[string][]byte) bool {
		return currentCert(ca, data[secret.TLSCrtDataName], data[secret.TLSKeyDataName], l.cn, l.orgs, l.dns, l.ips, l.usages)
	}
	build := func() (map[string][]byte, error) {
		certPEM, keyPEM, err := issue(ca, l.cn, l.orgs, l.dns, l.ips, l.usages)
		if err != nil {
			return nil, err
		}
		return map[string][]byte{secret.TLSCrtDataName: certPEM, secret.TLSKeyDataName: keyPEM}, nil
	}
	return s.ensure(ctx, l.secret, current, build)
}

func (s *store) ensureKubeconfig(ctx context.Context, k kubeconfigSpec, ca *authority) error {
	current := func(data map[string][]byte) bool { return k.current(data, ca) }
	build := func() (map[string][]byte, error) { return k.build(s.cluster, ca) }
	return s.ensure(ctx, k.secret, current, build)
}

// ensure leaves Secret name alone when current says its data is good, and otherwise creates
// or overwrites it with build's data. Either way it records the data's hash.
func (s *store) ensure(ctx context.Context, name string, current func(map[string][]byte) bool, build func() (map[string][]byte, error)) error {
	key := client.ObjectKey{Namespace: s.namespace, Name: name}
	existing := &corev1.Secret{}
	err := s.c.Get(ctx, key, existing)
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("reading Secret %s: %w", key, err)
	}
	found := err == nil
	if found && current(existing.Data) {
		s.res.Hashes[name] = hashData(existing.Data)
		return nil
	}
	data, err := build()
	if err != nil {
		return fmt.Errorf("issuing Secret %s: %w", key, err)
	}
	if found {
		existing.Data = data
		if existing.Labels == nil {
			existing.Labels = map[string]string{}
		}
		existing.Labels[clusterv1.ClusterNameLabel] = s.cluster
		if !slices.ContainsFunc(existing.OwnerReferences, func(o metav1.OwnerReference) bool { return o.UID == s.owner.UID }) {
			existing.OwnerReferences = append(existing.OwnerReferences, s.owner)
		}
		if err := s.c.Update(ctx, existing); err != nil {
			return fmt.Errorf("replacing stale Secret %s: %w", key, err)
		}
	} else {
		created := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{
				Namespace:       s.namespace,
				Name:            name,
				Labels:          map[string]string{clusterv1.ClusterNameLabel: s.cluster},
				OwnerReferences: []metav1.OwnerReference{s.owner},
			},
			Type: clusterv1.ClusterSecretType,
			Data: data,
		}
		if err := s.c.Create(ctx, created); err != nil {
			return fmt.Errorf("creating Secret %s: %w", key, err)
		}
	}
	s.res.Hashes[name] = hashData(data)
	s.res.Written = append(s.res.Written, name)
	return nil
}

// hashData is a SHA-256 over a Secret's data, independent of map order.
func hashData(data map[string][]byte) string {
	keys := make([]string, 0, len(data))
	for k := range data {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	h := sha256.New()
	for _, k := range keys {
		for _, b := range [][]byte{[]byte(k), data[k]} {
			_ = binary.Write(h, binary.BigEndian, uint64(len(b)))
			h.Write(b)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}
