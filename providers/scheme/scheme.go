// Package scheme builds the runtime.Scheme every provider uses: client-go's built-in kinds,
// Cluster API's core v1beta2 types and this project's three API groups.
package scheme

import (
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	clusterv1 "sigs.k8s.io/cluster-api/api/core/v1beta2"

	bootstrapv1 "github.com/kaas-sandbox/sandbox/api/bootstrap/v1alpha1"
	controlplanev1 "github.com/kaas-sandbox/sandbox/api/controlplane/v1alpha1"
	infrav1 "github.com/kaas-sandbox/sandbox/api/infrastructure/v1alpha1"
)

// New returns a scheme holding every kind the providers read or write.
func New() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	for name, add := range map[string]func(*runtime.Scheme) error{
		"client-go":                clientgoscheme.AddToScheme,
		"cluster.x-k8s.io/v1beta2": clusterv1.AddToScheme,
		"infrastructure/v1alpha1":  infrav1.AddToScheme,
		"controlplane/v1alpha1":    controlplanev1.AddToScheme,
		"bootstrap/v1alpha1":       bootstrapv1.AddToScheme,
	} {
		if err := add(s); err != nil {
			return nil, fmt.Errorf("adding %s to the scheme: %w", name, err)
		}
	}
	return s, nil
}
