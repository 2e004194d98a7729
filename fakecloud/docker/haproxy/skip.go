package haproxy

import "github.com/kaas-sandbox/sandbox/fakecloud/loadbalancer"

// Skip is a listener or pool that Render leaves out because HAProxy cannot serve it.
type Skip struct {
	// Kind is "listener" or "pool".
	Kind string
	// ID is the listener's or pool's id.
	ID string
	// Protocol is its protocol, e.g. UDP.
	Protocol string
	// Reason says why, e.g. "HAProxy does not serve UDP".
	Reason string
}

// Skipped lists the enabled listeners and the pools of spec that Render leaves out because
// HAProxy cannot serve their protocol (UDP, SCTP, TERMINATED_HTTPS), in spec order. Disabled
// listeners are left out too but are not listed: nothing is wrong with them.
func Skipped(spec loadbalancer.Spec) []Skip {
	var out []Skip
	for _, l := range spec.Listeners {
		if r := listenerSkipReason(l.Protocol); r != "" && l.AdminStateUp {
			out = append(out, Skip{Kind: "listener", ID: l.ID, Protocol: l.Protocol, Reason: r})
		}
	}
	for _, p := range spec.Pools {
		if r := poolSkipReason(p.Protocol); r != "" {
			out = append(out, Skip{Kind: "pool", ID: p.ID, Protocol: p.Protocol, Reason: r})
		}
	}
	return out
}

func listenerSkipReason(protocol string) string {
	switch protocol {
	case "UDP", "SCTP":
		return "HAProxy does not serve " + protocol
	case "TERMINATED_HTTPS":
		return "the spec carries no TLS certificate to terminate HTTPS with"
	}
	return ""
}

func poolSkipReason(protocol string) string {
	switch protocol {
	case "UDP", "SCTP":
		return "HAProxy does not serve " + protocol
	}
	return ""
}
