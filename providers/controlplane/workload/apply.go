package workload

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
)

// Apply server-side applies every object of objs through c, as field manager fieldOwner,
// forcing ownership of conflicting fields: Namespaces first, then the others in their order.
// Objects are not modified. Applying the same objects again changes nothing (no
// resourceVersion moves).
// Fields other managers own (the bootstrapsigner's jws-kubeconfig-* keys in cluster-info, a
// Service's allocated fields) are left alone. It goes on past a failing object and returns
// every failure, each naming its object; when the apiserver does not answer at all it stops
// there.
func Apply(ctx context.Context, c client.Client, objs []client.Object, fieldOwner string) error {
	if fieldOwner == "" {
		return errors.New("applying workload cluster objects: empty field owner")
	}
	ordered := make([]client.Object, 0, len(objs))
	for _, pass := range []bool{true, false} {
		for _, o := range objs {
			if o != nil && isNamespace(o, c.Scheme()) == pass {
				ordered = append(ordered, o)
			}
		}
	}
	var errs []error
	for i, o := range ordered {
		if err := ctx.Err(); err != nil {
			return errors.Join(append(errs, fmt.Errorf("applying workload cluster objects: %w", err))...)
		}
		sent, err := applyOne(ctx, c, o, fieldOwner)
		if err != nil {
			errs = append(errs, err)
			if sent && unanswered(err) && i+1 < len(ordered) {
				errs = append(errs, fmt.Errorf("the apiserver did not answer: %d more objects not tried", len(ordered)-i-1))
				break
			}
		}
	}
	return errors.Join(errs...)
}

// unanswered tells an error the apiserver did not send (a timeout, a refused or cut
// connection, a failed discovery) from its answer about one object. After one, the rest would
// only wait out the same timeout each: a reconcile stuck for minutes behind a busy apiserver.
func unanswered(err error) bool {
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		return false
	}
	var noMatch *meta.NoKindMatchError
	return !errors.As(err, &noMatch)
}

// applyOne applies o; sent tells whether it went as far as a request (a local encoding error
// does not).
func applyOne(ctx context.Context, c client.Client, o client.Object, fieldOwner string) (sent bool, err error) {
	u, err := toApplyable(o, c.Scheme())
	if err != nil {
		return false, fmt.Errorf("applying %s: %w", describe(o, c.Scheme()), err)
	}
	err = c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(fieldOwner), client.ForceOwnership)
	if err != nil {
		return true, fmt.Errorf("applying %s: %w", describe(o, c.Scheme()), err)
	}
	return true, nil
}

// toApplyable turns o into an apply configuration: a fresh unstructured object with its
// apiVersion and kind, with no status, no server-set metadata and no null fields (zero
// values the typed structs cannot omit, which an apply would read as "remove").
func toApplyable(o client.Object, scheme *runtime.Scheme) (*unstructured.Unstructured, error) {
	gvk, err := gvkOf(o, scheme)
	if err != nil {
		return nil, err
	}
	// A JSON round trip gives a deep copy, with integers as int64, of typed and
	// unstructured objects alike.
	data, err := json.Marshal(o)
	if err != nil {
		return nil, fmt.Errorf("encoding: %w", err)
	}
	var content map[string]any
	if err := utiljson.Unmarshal(data, &content); err != nil {
		return nil, fmt.Errorf("decoding: %w", err)
	}
	delete(content, "status")
	if meta, ok := content["metadata"].(map[string]any); ok {
		for _, f := range []string{"creationTimestamp", "resourceVersion", "uid", "generation", "managedFields", "selfLink"} {
			delete(meta, f)
		}
	}
	pruneNulls(content)
	u := &unstructured.Unstructured{Object: content}
	u.SetGroupVersionKind(gvk)
	return u, nil
}

// pruneNulls removes null values from maps, recursively.
func pruneNulls(v any) {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			if e == nil {
				delete(t, k)
				continue
			}
			pruneNulls(e)
		}
	case []any:
		for _, e := range t {
			pruneNulls(e)
		}
	}
}

// gvkOf is o's group, version and kind: from its TypeMeta when set, else from scheme.
func gvkOf(o client.Object, scheme *runtime.Scheme) (schema.GroupVersionKind, error) {
	if gvk := o.GetObjectKind().GroupVersionKind(); gvk.Kind != "" && gvk.Version != "" {
		return gvk, nil
	}
	if scheme == nil {
		return schema.GroupVersionKind{}, errors.New("object has no apiVersion/kind and the client has no scheme")
	}
	gvk, err := apiutil.GVKForObject(o, scheme)
	if err != nil {
		return schema.GroupVersionKind{}, fmt.Errorf("finding the object's kind: %w", err)
	}
	return gvk, nil
}

func isNamespace(o client.Object, scheme *runtime.Scheme) bool {
	gvk, err := gvkOf(o, scheme)
	return err == nil && gvk.Group == "" && gvk.Kind == "Namespace"
}

// describe names o for errors: Kind namespace/name, or Kind name when cluster-scoped.
func describe(o client.Object, scheme *runtime.Scheme) string {
	kind := "object"
	if gvk, err := gvkOf(o, scheme); err == nil {
		kind = gvk.Kind
	}
	if ns := o.GetNamespace(); ns != "" {
		return fmt.Sprintf("%s %s/%s", kind, ns, o.GetName())
	}
	return fmt.Sprintf("%s %s", kind, o.GetName())
}
