package runner

import (
	"context"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kaas-sandbox/sandbox/scenarios"
)

// clientFor returns the client of the cluster an object lives in and its default namespace.
func (r *run) clientFor(ctx context.Context, cluster string) (client.Client, string, error) {
	if cluster == scenarios.ClusterCustomer {
		c, err := r.openCustomer(ctx)
		if err != nil {
			return nil, "", err
		}
		return c.Client(), "default", nil
	}
	return r.env.Service, r.namespace, nil
}

// openCustomer opens the scenario's customer cluster, once.
func (r *run) openCustomer(ctx context.Context) (Customer, error) {
	if r.customer != nil {
		return r.customer, nil
	}
	if r.env.Customers == nil {
		return nil, fmt.Errorf("no access to customer clusters in this environment")
	}
	c, err := r.env.Customers.Open(ctx, r.namespace, r.cluster)
	if err != nil {
		return nil, fmt.Errorf("opening customer cluster %s/%s: %w", r.namespace, r.cluster, err)
	}
	r.customer = c
	return c, nil
}

// gvk returns the group, version and kind an ObjectRef reads.
func gvk(ref scenarios.ObjectRef) (schema.GroupVersionKind, bool) {
	apiVersion := ref.APIVersion
	namespaced := true
	if info, ok := scenarios.KnownKind(ref.Kind); ok {
		if apiVersion == "" {
			apiVersion = info.APIVersion
		}
		namespaced = info.Namespaced
	}
	gv, _ := schema.ParseGroupVersion(apiVersion)
	return gv.WithKind(ref.Kind), namespaced
}

// objects returns the objects ref picks: the named one (none when it does not exist) or every
// one the selector matches.
func (r *run) objects(ctx context.Context, ref scenarios.ObjectRef) ([]unstructured.Unstructured, error) {
	c, defNS, err := r.clientFor(ctx, ref.Cluster)
	if err != nil {
		return nil, err
	}
	kind, namespaced := gvk(ref)
	ns := ref.Namespace
	if ns == "" && namespaced {
		ns = defNS
	}
	if !namespaced {
		ns = ""
	}
	if ref.Name != "" {
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(kind)
		err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: ref.Name}, u)
		switch {
		case apierrors.IsNotFound(err):
			return nil, nil
		case err != nil:
			return nil, fmt.Errorf("getting %s %s: %w", ref.Kind, objKey(ns, ref.Name), err)
		}
		return []unstructured.Unstructured{*u}, nil
	}
	list := &unstructured.UnstructuredList{}
	list.SetGroupVersionKind(kind.GroupVersion().WithKind(kind.Kind + "List"))
	opts := []client.ListOption{client.MatchingLabels(ref.Selector)}
	if ns != "" {
		opts = append(opts, client.InNamespace(ns))
	}
	if err := c.List(ctx, list, opts...); err != nil {
		return nil, fmt.Errorf("listing %s in %s with %v: %w", ref.Kind, orAll(ns), ref.Selector, err)
	}
	return list.Items, nil
}

// condition is a status condition as read from an unstructured object.
type condition struct {
	Type, Status, Reason, Message string
}

func (c condition) String() string {
	s := c.Type + "=" + c.Status
	if c.Reason != "" {
		s += " " + c.Reason
	}
	if c.Message != "" {
		s += ": " + oneLine(c.Message, 300)
	}
	return s
}

// conditions reads status.conditions.
func conditions(u *unstructured.Unstructured) []condition {
	raw, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	out := make([]condition, 0, len(raw))
	for _, x := range raw {
		m, ok := x.(map[string]any)
		if !ok {
			continue
		}
		str := func(k string) string { s, _ := m[k].(string); return s }
		out = append(out, condition{Type: str("type"), Status: str("status"), Reason: str("reason"), Message: str("message")})
	}
	return out
}

func findCondition(u *unstructured.Unstructured, t string) (condition, bool) {
	for _, c := range conditions(u) {
		if c.Type == t {
			return c, true
		}
	}
	return condition{}, false
}

// fieldValue reads a field such as .status.version as text.
func fieldValue(u *unstructured.Unstructured, path string) (string, bool) {
	keys := strings.Split(strings.TrimPrefix(path, "."), ".")
	v, ok, err := unstructured.NestedFieldNoCopy(u.Object, keys...)
	if !ok || err != nil || v == nil {
		return "", false
	}
	return fmt.Sprint(v), true
}

func objKey(ns, name string) string {
	if ns == "" {
		return name
	}
	return ns + "/" + name
}

func orAll(ns string) string {
	if ns == "" {
		return "every namespace"
	}
	return "namespace " + ns
}

// oneLine squeezes text onto one line of at most max characters.
func oneLine(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > max {
		s = s[:max-3] + "..."
	}
	return s
}
