package services

import "errors"

// Resource is one row of `fakecloud state`: any resource of any service.
type Resource struct {
	Service string `json:"service"`
	Kind    string `json:"kind"`
	ID      string `json:"id"`
	Name    string `json:"name"`
	Project string `json:"project"`
	Status  string `json:"status"`
}

// Service is what package cloud needs of every service.
type Service interface {
	// Routes registers the service's HTTP routes (through Env.Router).
	Routes()
	// Resources lists every resource the service holds, for inspection.
	Resources() []Resource
}

// permanent marks a backend error that retrying cannot heal.
type permanent struct{ err error }

func (p permanent) Error() string { return p.err.Error() }
func (p permanent) Unwrap() error { return p.err }

// Permanent wraps a backend error that retrying cannot heal (a container that cannot start
// because its image does not exist): the resource goes to ERROR at once with err as its fault.
// Any other backend error is retried with backoff.
func Permanent(err error) error { return permanent{err} }

// IsPermanent reports whether err was wrapped with Permanent.
func IsPermanent(err error) bool {
	var p permanent
	return errors.As(err, &p)
}
