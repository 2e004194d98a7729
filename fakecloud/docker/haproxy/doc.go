// Package haproxy turns the configuration of one fakecloud load balancer (a loadbalancer.Spec)
// into an haproxy.cfg for HAProxy 2.6, Debian bookworm's, and reads the health of its members
// back from the stats socket. It runs nothing: the docker backend writes the file into the
// load balancer's container, starts `haproxy -W -db -f FILE` (master-worker, so SIGUSR2
// reloads seamlessly) and feeds `show stat` to ParseStats.
//
// # What Render makes of a Spec
//
// The layout follows Octavia's amphora templates:
//   - global: maxconn, the admin stats socket (`expose-fd listeners`, so a reload hands the
//     listening sockets over), optionally a server-state file and logs to stdout;
//   - defaults: Octavia's default timeouts (connect 5 s, client and server 50 s), retries 3,
//     option redispatch;
//   - one frontend per enabled listener, named by its id, bound to the VIP (or
//     Options.BindAddress) on protocol_port: HTTP as mode http (X-Forwarded-For, -Port and
//     -Proto as insert_headers asks), TCP and HTTPS (TLS passed through) as mode tcp,
//     PROMETHEUS as HAProxy's prometheus-exporter on /metrics; connection_limit, the timeouts
//     (in ms; zero keeps the defaults) and allowed_cidrs become maxconn, timeout client,
//     tcp-request inspect-delay and a `tcp-request connection reject unless` rule;
//   - one backend per pool, named by its id, whether or not a listener uses it, in mode http
//     for HTTP pools (and PROXY pools behind an HTTP listener), else tcp; lb_algorithm becomes
//     balance roundrobin, leastconn or source (SOURCE_IP_PORT too: HAProxy hashes the address
//     only); SOURCE_IP persistence a stick table on the source, APP_COOKIE one on the cookie,
//     HTTP_COOKIE an inserted cookie (both cookie kinds only in mode http); the timeouts to
//     members come from the listeners using the pool;
//   - one server per member, named by the member id, with weight, backup, send-proxy for
//     PROXY pools and, when the pool has an enabled monitor, `check inter <delay>s fall
//     <max_retries_down> rise <max_retries>` (monitor_address and monitor_port as addr and
//     port). HTTP and HTTPS monitors add option httpchk and an http-check expect line (a list
//     or range of codes as an rstatus regular expression), TLS-HELLO option ssl-hello-chk;
//     TCP and PING monitors are TCP connect checks.
//
// Listeners HAProxy cannot serve (UDP, SCTP, and TERMINATED_HTTPS, whose certificates a Spec
// does not carry) and UDP and SCTP pools are left out of the file; Skipped lists them with the
// reason, so the caller can report them. Disabled listeners are left out, as are all listeners
// of a disabled load balancer; a disabled member, or every member of a disabled pool, is a
// `disabled` server (MAINT in the stats, so OFFLINE). Render fails, naming the object, on
// anything it cannot express safely: a name that is not a plain id, an address that is not an
// IP, an unknown protocol or algorithm, two listeners on one port.
//
// The output is deterministic: frontends are ordered by port, backends and servers by id.
package haproxy
