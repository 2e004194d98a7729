package vpn

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"
	"strings"
)

// Timers of the tunnel, chosen for fast dead-peer detection on a TCP tunnel through HAProxy
// (whose idle timeouts are far above the ping interval):
//   - each side pings every 2 s and restarts after 8 s without a packet from the other;
//   - the client dials again 1 s after a failure, backing off to 2 s at most (OpenVPN's default
//     backs off to 300 s), and gives a dial or a server that does not answer 5 s.
const (
	pingSeconds        = 2
	pingRestartSeconds = 8
	connectRetry       = 1
	connectRetryMax    = 2
	connectTimeout     = 5
)

// ServerConfig renders server.conf: TCP, topology subnet on the transfer network, clients
// authenticated by certificate (every apiserver pod shares the client certificate:
// duplicate-cn), no client-to-client, tls-crypt, ECDH without DH parameters, and a status file
// for readiness.
func ServerConfig(p *PKI, transferCIDR string) (string, error) {
	tr, err := netip.ParsePrefix(transferCIDR)
	if err != nil || !tr.Addr().Is4() {
		return "", fmt.Errorf("transfer network %q is not an IPv4 CIDR", transferCIDR)
	}
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	line("# kaas-vpn server: rendered by the control-plane provider (providers/vpn); edits are overwritten.")
	line("port %d", Port)
	line("proto tcp-server")
	line("dev tun0")
	line("dev-type tun")
	line("topology subnet")
	line("server %s %s", tr.Masked().Addr(), netmask(tr.Bits()))
	line("keepalive %d %d", pingSeconds, pingRestartSeconds)
	line("duplicate-cn")
	line("remote-cert-tls client")
	line("verify-x509-name %s name", ClientCommonName)
	line("tls-version-min 1.2")
	line("dh none")
	line("status /run/kaas-vpn/status 2")
	line("status-version 2")
	line("verb 3")
	inline(&b, "ca", p.CACert)
	inline(&b, "cert", p.ServerCert)
	inline(&b, "key", p.ServerKey)
	inline(&b, "tls-crypt", p.TLSCrypt)
	return b.String(), nil
}

// ClientConfig renders client.conf for the apiserver pods: it dials remote:Port, checks the
// server's certificate name, accepts from the server its interface address and timers but no
// route, gateway or DNS option, and routes the networks itself in the up script (kaas-vpn up),
// which also refuses an interface address outside the transfer network.
func ClientConfig(p *PKI, remote string, networks Networks, transferCIDR string) (string, error) {
	if _, err := netip.ParseAddr(remote); err != nil {
		return "", fmt.Errorf("the tunnel's address %q is not an IP address", remote)
	}
	if err := networks.Validate(); err != nil {
		return "", err
	}
	if tr, err := netip.ParsePrefix(transferCIDR); err != nil || !tr.Addr().Is4() {
		return "", fmt.Errorf("transfer network %q is not an IPv4 CIDR", transferCIDR)
	}
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	line("# kaas-vpn client: rendered by the control-plane provider (providers/vpn); edits are overwritten.")
	line("client")
	line("dev tun0")
	line("dev-type tun")
	line("proto tcp-client")
	line("remote %s %d", remote, Port)
	line("nobind")
	line("resolv-retry infinite")
	line("connect-retry %d %d", connectRetry, connectRetryMax)
	line("connect-timeout %d", connectTimeout)
	line("server-poll-timeout %d", connectTimeout)
	line("ping %d", pingSeconds)
	line("ping-restart %d", pingRestartSeconds)
	line("remote-cert-tls server")
	line("verify-x509-name %s name", ServerCommonName)
	line("tls-version-min 1.2")
	// pull-filter: the first match wins. The gateway of the transfer network is needed with
	// topology subnet; every other route, gateway redirection or DNS option is ignored.
	line(`pull-filter accept "route-gateway "`)
	line(`pull-filter ignore "route"`)
	line(`pull-filter ignore "redirect-gateway"`)
	line(`pull-filter ignore "dhcp-option"`)
	line(`pull-filter ignore "block-outside-dns"`)
	line(`pull-filter ignore "ifconfig-ipv6"`)
	line("script-security 2")
	line("setenv KAAS_VPN_ROUTES %s", strings.Join(networks.All(), ","))
	line("setenv KAAS_VPN_TRANSFER %s", transferCIDR)
	line(`up "/usr/local/bin/kaas-vpn up"`)
	line(`down "/usr/local/bin/kaas-vpn down"`)
	line("verb 3")
	inline(&b, "ca", p.CACert)
	inline(&b, "cert", p.ClientCert)
	inline(&b, "key", p.ClientKey)
	inline(&b, "tls-crypt", p.TLSCrypt)
	return b.String(), nil
}

func inline(b *strings.Builder, tag string, pemData []byte) {
	fmt.Fprintf(b, "<%s>\n%s\n</%s>\n", tag, strings.TrimSpace(string(pemData)), tag)
}

func netmask(bits int) string {
	var m uint32
	if bits > 0 {
		m = ^uint32(0) << (32 - bits)
	}
	return fmt.Sprintf("%d.%d.%d.%d", m>>24, m>>16&0xff, m>>8&0xff, m&0xff)
}

// Hash is a short content hash of a rendered configuration, for pod-template annotations.
func Hash(config string) string {
	sum := sha256.Sum256([]byte(config))
	return hex.EncodeToString(sum[:8])
}
