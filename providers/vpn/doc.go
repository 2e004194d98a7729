// Package vpn builds the reverse tunnel of a hosted control plane: an OpenVPN server in the
// customer cluster, published through an Octavia load balancer of its own, and an OpenVPN client
// container beside kube-apiserver in each of its pods, so that the apiserver reaches kubelets,
// pods and Services of the customer's private network (logs, exec, port-forward, the proxy,
// admission webhooks, aggregated APIs).
//
// Nothing the server says is trusted, because it runs where the customer has the keys: the
// client takes no pushed routes, DNS or gateway and refuses an interface address outside the
// transfer network; it routes exactly the customer's node, pod and service networks the
// provider has on record, with an `unreachable` fallback for each so that a request fails at
// once while the tunnel is down; and it drops every new connection that comes out of the tunnel.
//
// The package renders (PKI Secrets, OpenVPN configurations, the server's objects, the client
// container) and checks (networks that must not overlap, the tunnel probe); the control-plane
// controller decides when. The image, kaas.local/openvpn, is built by hack/images/addons.sh.
package vpn
