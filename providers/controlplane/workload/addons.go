package workload

import (
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Addons returns the add-ons of a customer cluster: kube-proxy and CoreDNS as kubeadm's addon
// phase deploys them, and flannel (VXLAN) in kube-flannel. Every image is preloaded on the
// node images and pulled IfNotPresent: no registry is reachable.
func Addons(p Params) ([]client.Object, error) {
	r, err := p.resolve()
	if err != nil {
		return nil, err
	}
	var objs []client.Object
	for _, build := range []func(resolved) ([]client.Object, error){
		kubeProxyObjects,
		coreDNSObjects,
		flannelObjects,
	} {
		o, err := build(r)
		if err != nil {
			return nil, err
		}
		objs = append(objs, o...)
	}
	return objs, nil
}
